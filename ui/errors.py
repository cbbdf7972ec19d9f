"""Library errors as messages in the user's language, each with the fix.

The library's messages are English (they serve the log and the command line too). In the
Chinese interface every error a user can trigger is named by its kind and field and shown with
a Chinese fix; the English detail goes to the log only.
"""

from __future__ import annotations

import logging

from gis.errors import (
    AuthError,
    ConflictError,
    CRSError,
    DatumError,
    GeographyError,
    InfeasibleError,
    NetworkError,
    NotFoundError,
    OfflineError,
    PatrolError,
    StoreError,
    TransitionError,
    ValidationError,
)
from gis.i18n import MESSAGES, t
from ui.common import ERROR_CHARS, plain

log = logging.getLogger(__name__)

#: Error kinds in the order they are matched (subclasses first).
_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (DatumError, "datum"),
    (CRSError, "crs"),
    (ValidationError, "validation"),
    (ConflictError, "conflict"),
    (TransitionError, "transition"),
    (InfeasibleError, "infeasible"),
    (NetworkError, "network"),
    (OfflineError, "offline"),
    (NotFoundError, "not_found"),
    (StoreError, "store"),
    (GeographyError, "geography"),
    (AuthError, "auth"),
)


def error_key(exc: BaseException, *, where: str = "") -> str:
    """The catalogue key of an error: ``errors.<kind>.<field>`` when the field is known,
    ``errors.<where>.<kind>`` for a page-specific text, else ``errors.<kind>``."""
    kind = next((name for cls, name in _KINDS if isinstance(exc, cls)), "generic")
    field = getattr(exc, "field", None)
    for key in (
        f"errors.{kind}.{field}" if field else "",
        f"errors.{where}.{kind}" if where else "",
        f"errors.{kind}",
    ):
        if key and key in MESSAGES:
            return key
    return "errors.generic"


def user_message(lang: str, exc: BaseException, *, where: str = "") -> str:
    """The message a user reads for ``exc``: the library's own (English) text in English,
    a catalogue text with the fix in Chinese."""
    log.info("shown to the user (%s): %s", type(exc).__name__, exc)
    if lang == "en" and isinstance(exc, PatrolError):
        return t("app.error", "en", message=plain(exc, ERROR_CHARS))
    return t(error_key(exc, where=where), lang)


#: Field names of intake files as people call them.
_FIELDS_ZH = {
    "report_id": "编号",
    "category": "类别",
    "lon": "经度",
    "lat": "纬度",
    "reported_at": "上报时间",
    "source": "来源",
    "description": "描述",
    "reporter": "上报人",
    "geometry": "位置",
    "encoding": "文件编码",
}


def located_message(lang: str, exc: BaseException) -> str:
    """An error in a file: where (row, field) and what to fix, in the user's language."""
    if lang == "en":
        return str(exc)
    parts = []
    row = getattr(exc, "row", None)
    field = getattr(exc, "field", None)
    if row is not None:
        parts.append(f"第 {row} 行")
    if field:
        parts.append(_FIELDS_ZH.get(str(field), "字段"))
    where = "，".join(parts)
    text = t(error_key(exc), lang).rstrip("。")
    return f"{where}：{text}" if where else text
