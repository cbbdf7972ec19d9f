"""The app's pages and their shared helpers (Streamlit only; every computation is in gis/)."""
