"""Crowd-flow early warning (客流预警): watched places, counts, forecasts and alerts."""
