"""Coordination between departments: tiered handling, dispatch, joint actions, consultations.

吹哨报到 dispatch, 明察暗访 inspections, reporters and photo evidence; UI-free: the app and the
CLI call these functions.
"""
