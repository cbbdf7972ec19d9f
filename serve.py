"""Run the app with its session routes: ``streamlit run serve.py`` (or ``uvicorn serve:app``).

``app.py`` is the Streamlit script; this file mounts it with the two routes that set and clear
the HttpOnly session cookie (ui/server.py), which a plain ``streamlit run app.py`` lacks.
"""

from pathlib import Path

import streamlit as st

from ui.server import routes

app = st.App(Path(__file__).resolve().with_name("app.py"), routes=routes())
