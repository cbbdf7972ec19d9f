"""Coordination: tiered handling, 吹哨报到 dispatch, joint actions, consultations, 明察暗访,
reporters and photo evidence (UI-free; the app and the CLI call these functions)."""
