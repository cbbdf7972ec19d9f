"""The staff table: who can be made responsible for a district (包片分段、责任到人)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from gis.errors import ValidationError

log = logging.getLogger(__name__)

#: Columns of the staff table, in order.
STAFF_COLUMNS: tuple[str, ...] = (
    "person_id",
    "name",
    "role",
    "department",
    "presence",
    "phone",
    "shift",
    "fictitious",
)
#: ``presence``: stationed in the scenic area every day, or called in when needed.
PRESENCE: tuple[str, ...] = ("resident", "on_call")
#: Roles a person can have.
ROLES: tuple[str, ...] = ("duty_officer", "auxiliary", "grid_worker", "area_chief", "volunteer")
#: Shifts (sign-in 09:00 and 19:00 at the centre).
SHIFTS: tuple[str, ...] = ("morning", "evening", "day", "rotating")

_REQUIRED = ("person_id", "name", "role", "department", "presence")
#: Longest id, name, department or phone kept (characters).
MAX_TEXT = 100
#: Largest staff CSV read (bytes); checked before reading.
MAX_STAFF_BYTES = 5 * 1024 * 1024


def _blank(value: object) -> bool:
    return (
        value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""
    )


def validate_staff(df: pd.DataFrame, *, source: str = "<staff>") -> pd.DataFrame:
    """Check a staff table and return a clean copy (strings stripped, columns in order).

    Raises
    ------
    ValidationError
        Naming the row (1-based data row, as a spreadsheet shows it after the header) and
        the field: a missing column, an empty required field, a duplicate ``person_id``,
        an unknown ``presence``/``role``/``shift``.
    """
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise ValidationError(
            f"staff table lacks column {missing[0]!r}",
            source=source,
            field=missing[0],
            fix=f"the columns are {', '.join(STAFF_COLUMNS)}",
        )
    out = df.copy()
    for col in STAFF_COLUMNS:
        if col not in out.columns:
            out[col] = "" if col != "fictitious" else False
    seen: dict[str, int] = {}
    for i, rec in enumerate(out.to_dict("records"), start=1):
        for col in _REQUIRED:
            if _blank(rec[col]):
                raise ValidationError(
                    f"person {rec.get('person_id') or '?'} has no {col}",
                    source=source,
                    row=i,
                    field=col,
                    fix=f"fill in the {col}",
                )
        pid = str(rec["person_id"]).strip()
        if pid in seen:
            raise ValidationError(
                f"person_id {pid!r} repeats row {seen[pid]}",
                source=source,
                row=i,
                field="person_id",
                fix="give every person a unique id",
            )
        seen[pid] = i
        for col in ("person_id", "name", "department", "phone"):
            text = "" if _blank(rec[col]) else str(rec[col])
            if len(text) > MAX_TEXT or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
                raise ValidationError(
                    f"{col} of person {pid[:40]!r} is {len(text)} characters or contains "
                    "control characters",
                    source=source,
                    row=i,
                    field=col,
                    fix=f"use at most {MAX_TEXT} characters of plain text (no NUL or line break)",
                )
        checks = (("presence", PRESENCE), ("role", ROLES))
        for col, allowed in checks:
            if str(rec[col]).strip() not in allowed:
                raise ValidationError(
                    f"unknown {col} {rec[col]!r}",
                    source=source,
                    row=i,
                    field=col,
                    fix=f"use one of {', '.join(allowed)}",
                )
        if not _blank(rec["shift"]) and str(rec["shift"]).strip() not in SHIFTS:
            raise ValidationError(
                f"unknown shift {rec['shift']!r}",
                source=source,
                row=i,
                field="shift",
                fix=f"use one of {', '.join(SHIFTS)} or leave it empty",
            )
    for col in STAFF_COLUMNS:
        if col == "fictitious":
            out[col] = out[col].map(
                lambda v: (
                    str(v).strip().lower() in {"true", "1", "yes", "是", "虚构"}
                    if not isinstance(v, bool)
                    else v
                )
            )
        else:
            out[col] = out[col].map(lambda v: "" if _blank(v) else str(v).strip())
    return out[list(STAFF_COLUMNS)].reset_index(drop=True)


def load_staff(path: str | Path) -> pd.DataFrame:
    """Read and validate a staff CSV (UTF-8; phone numbers stay text)."""
    import io

    from gis.io.uploads import read_upload

    p = Path(path)
    if not p.exists() and not p.is_symlink():
        raise ValidationError(
            "staff file does not exist", source=str(p), fix="check the path or use the demo"
        )
    data = read_upload(p, MAX_STAFF_BYTES)  # no links, no devices, size first
    try:
        df = pd.read_csv(io.StringIO(data.decode("utf-8-sig")), dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        where = f" ({type(exc).__name__})"
        raise ValidationError(
            f"cannot be read as a UTF-8 staff CSV{where}",
            source=p.name,
            fix=f"save it as CSV UTF-8 with the columns {', '.join(STAFF_COLUMNS)}",
        ) from None
    return validate_staff(df, source=p.name)


def save_staff(df: pd.DataFrame, path: str | Path) -> Path:
    """Validate and write a staff CSV; nothing is written when validation fails."""
    clean = validate_staff(df, source=str(Path(path).name))
    p = Path(path)
    tmp = p.with_suffix(p.suffix + ".tmp")
    clean.to_csv(tmp, index=False, encoding="utf-8")
    tmp.replace(p)
    return p


def demo_staff_path(data_dir: str | Path) -> Path:
    """Where the bundled demo staff table lives inside a data folder."""
    return Path(data_dir) / "staff_demo.csv"


def resident_officers(staff: pd.DataFrame) -> pd.DataFrame:
    """Resident duty officers, the people districts are normally drawn for."""
    mask = (staff["presence"] == "resident") & (staff["role"] == "duty_officer")
    return staff[mask].reset_index(drop=True)
