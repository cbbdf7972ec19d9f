"""Analytics: hotspots, forecasts, KPIs and the daily, weekly and monthly reports."""
