"""Display names for codes: categories, departments, fronts, zones, people, users.

The interface shows names; codes appear only as small print next to them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from gis.geography.layers import Geography

log = logging.getLogger(__name__)


def _pick(lang: str, zh: object, en: object) -> str:
    zh_s = "" if zh is None or (isinstance(zh, float) and pd.isna(zh)) else str(zh)
    en_s = "" if en is None or (isinstance(en, float) and pd.isna(en)) else str(en)
    return (en_s or zh_s) if lang == "en" else (zh_s or en_s)


def zone_names(geo: Geography, lang: str) -> dict[str, str]:
    """zone_id → zone name in the language."""
    en = geo.zones["name_en"] if "name_en" in geo.zones else [None] * len(geo.zones)
    return {
        str(z): _pick(lang, n, e)
        for z, n, e in zip(geo.zones["zone_id"], geo.zones["name"], en, strict=True)
    }


def front_names(geo: Geography, lang: str) -> dict[str, str]:
    """front_id → front name in the language."""
    en = geo.fronts["name_en"] if "name_en" in geo.fronts else [None] * len(geo.fronts)
    return {
        str(f): _pick(lang, n, e)
        for f, n, e in zip(geo.fronts["front_id"], geo.fronts["name"], en, strict=True)
    }


def category_names(refs: Any, lang: str) -> dict[str, str]:
    """Category code → name (``C07`` → 噪声扰民)."""
    if refs is None:
        return {}
    return {k: _pick(lang, v.name_zh, v.name_en) for k, v in refs.categories.items()}


def department_names(refs: Any, lang: str) -> dict[str, str]:
    """Department code → name (``chengguan`` → 城管)."""
    if refs is None:
        return {}
    return {k: _pick(lang, v.name_zh, v.name_en) for k, v in refs.departments.items()}


@st.cache_data(show_spinner=False)
def _staff_names(path: str, mtime: float) -> dict[str, str]:
    from gis.people.staff_table import load_staff

    staff = load_staff(path)
    return {str(p): str(n) for p, n in zip(staff["person_id"], staff["name"], strict=True)}


def person_names(data_dir: Path, users: list[Any] | None = None) -> dict[str, str]:
    """person_id → name: the staff table next to the data first, then the display names of
    the user accounts that carry a person id, then the bundled demo staff table."""
    from gis.people.staff_table import demo_staff_path
    from gis.settings import BUNDLED_DATA_DIR

    names: dict[str, str] = {}
    sources = [Path(BUNDLED_DATA_DIR)]
    sources += [Path(data_dir).parent, Path(data_dir)]
    for i, folder in enumerate(dict.fromkeys(sources)):
        path = demo_staff_path(folder)
        if path.exists():
            try:
                names.update(_staff_names(str(path), path.stat().st_mtime))
            except Exception as exc:  # a broken staff file must not break every page
                log.warning("staff names unavailable from %s: %s", path.name, exc)
        if i == 0:  # the accounts outrank the bundled demo table, not the local one
            for u in users or ():
                if getattr(u, "person_id", None) and getattr(u, "display_name", ""):
                    names[u.person_id] = u.display_name
    return names


def person_label(person_id: str | None, names: dict[str, str]) -> str:
    """A person's name, or the id when the staff table does not know them."""
    if not person_id:
        return ""
    return names.get(person_id, person_id)
