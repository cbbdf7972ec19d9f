"""上报 Report (reporters' phone page): photo, point, category, a sentence; own reports only."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from gis.errors import PatrolError
from gis.i18n import format_datetime
from ui import capabilities
from ui.common import ERROR_CHARS, Context, geography, guard, plain
from ui.names import category_names

log = logging.getLogger(__name__)
PAGE = "report"
#: Largest photo the form takes (MB); the library refuses larger ones anyway.
MAX_PHOTO_MB = 15


def _now() -> datetime:
    from gis.localtime import LOCAL_TZ as TZ

    return datetime.now(TZ)


def _form(c: Context, store: Any) -> None:
    from gis.coordination.reporters import REPORTER_SOURCES, submit_report

    refs = store.refs
    with st.form("reporter_form", clear_on_submit=False):
        source = st.selectbox(
            c.t("report.source"),
            list(REPORTER_SOURCES),
            format_func=lambda s: c.t(f"report.source.{s}"),
            key="report_source",
        )
        category = st.selectbox(
            c.t("cases.category"),
            list(refs.categories),
            format_func=lambda k: (
                f"{k} {refs.categories[k].name_zh}"
                if c.lang == "zh"
                else f"{k} {refs.categories[k].name_en}"
            ),
            key="report_category",
        )
        lon = st.number_input(c.t("report.lon"), value=None, format="%.6f", key="report_lon")
        lat = st.number_input(c.t("report.lat"), value=None, format="%.6f", key="report_lat")
        sentence = st.text_input(c.t("report.sentence"), max_chars=300, key="report_sentence")
        photo = st.file_uploader(c.t("report.photo"), type=["jpg", "jpeg", "png", "webp"],
                                 key="report_photo")  # fmt: skip
        if not st.form_submit_button(c.t("report.submit")):
            return
    if lon is None or lat is None:
        st.error(c.t("cases.no_point"))
        return
    data = None
    if photo is not None:
        if photo.size > MAX_PHOTO_MB * 1_000_000:
            st.error(c.t("report.too_big", mb=MAX_PHOTO_MB))
            return
        data = photo.getvalue()
    try:
        case_id = submit_report(
            store, c.user, category=category, lon=float(lon), lat=float(lat), sentence=sentence,
            source=source, photo=data, geography=geography(c.settings), now=_now(),
        )  # fmt: skip
    except PatrolError as exc:
        st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
        return
    log.info("reporter %r sent case %s", c.user.username, case_id)

    st.success(c.t("report.sent", case_id=plain(case_id)))


def _mine(c: Context, store: Any) -> None:
    from gis.coordination.reporters import my_reports

    mine = my_reports(store, c.user)
    st.markdown("**" + c.t("report.mine", count=len(mine)) + "**")
    if mine.empty:
        return
    names = category_names(store.refs, c.lang)
    st.dataframe(
        pd.DataFrame(
            {
                c.t("cases.id"): mine["case_id"],
                c.t("cases.category"): [names.get(k, k) for k in mine["category"]],
                c.t("cases.state"): [c.t(f"cases.state.{s}") for s in mine["state"]],
                c.t("cases.reported_at"): [format_datetime(t, c.lang) for t in mine["reported_at"]],
            }
        ),
        hide_index=True,
    )


def report_page() -> None:
    """The reporter's form and the status of their own reports."""
    c = guard(PAGE)
    st.subheader(c.t("report.title"))
    store = capabilities.store(c)
    if store is None:
        st.info(c.t("common.none"))
        return
    _form(c, store)
    _mine(c, store)
