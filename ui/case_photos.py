"""A case's before/after photos (整改前后对比) on the cases page, and their upload form."""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from gis.access.authorization import ADVANCE_ROLES
from gis.errors import PatrolError
from ui.case_flash import flash, now
from ui.common import ERROR_CHARS, Context, plain
from ui.errors import user_message

log = logging.getLogger(__name__)

#: Roles that add before/after photos to a case (patrol officers take them on site).
PHOTO_ROLES = ADVANCE_ROLES | {"patrol"}


def photo_panel(c: Context, store: Any, case: Any) -> None:
    """Before/after photos of the case (整改前后对比) and, for an open case, an upload form."""
    from gis.cases.workflow import TERMINAL_STATES as done
    from gis.coordination import evidence
    from ui.coordination import flag_names, photo_grid

    table = evidence.photos(store, case.case_id, thumbs=True)
    st.markdown(f"**{c.t('coordination.photos')}**")
    if not photo_grid(c, table):
        st.caption(c.t("common.none"))
    if c.user.role not in PHOTO_ROLES or case.state in done:
        return
    key = f"cases_photo_{case.case_id}"
    with st.form(key, clear_on_submit=True):
        kind = st.radio(c.t("coordination.photo_kind"), evidence.KINDS, horizontal=True,
                        format_func=lambda k: c.t(f"coordination.photo.{k}"),
                        key=f"{key}_kind")  # fmt: skip
        upload = st.file_uploader(c.t("report.photo"), type=["jpg", "jpeg", "png", "webp"],
                                  key=f"{key}_file")  # fmt: skip
        far = st.checkbox(c.t("coordination.confirm_far"), key=f"{key}_far")
        if not st.form_submit_button(c.t("coordination.add_photo")):
            return
    if upload is None:
        st.error(c.t("cases.photo_missing"))
        return
    if upload.size > evidence.MAX_BYTES:
        st.error(c.t("report.too_big", mb=evidence.MAX_BYTES // 1_000_000))
        return
    try:
        row = evidence.add_photo(store, case.case_id, upload.getvalue(), c.user, kind=kind,
                                 name="photo", confirm_far=far, at=now())  # fmt: skip
    except PatrolError as exc:
        st.error(user_message(c.lang, exc))
        if c.lang == "zh":  # the detail (size, distance, duplicate) as the library says it
            st.caption(plain(exc, ERROR_CHARS))
        return
    log.info("user %r added a %s photo to case %s", c.user.username, kind, case.case_id)
    flags = flag_names(row["flags"] or "", c.lang)
    flash(c.t("coordination.photo_added", case=plain(case.case_id), flags=flags),
           pick=case.case_id)  # fmt: skip
