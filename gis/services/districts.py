"""The saved district assignment (segment → person), kept in the case store's metadata."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from gis.errors import StoreError

#: Store metadata key of the saved districts (segment_id → person_id as JSON).
ASSIGNMENT_META = "districts.assignment"


def save_districts(
    store: Any, assignment: Mapping[str, str], *, day: date | None = None, by: str = ""
) -> None:
    """Save the districts (segment → person) with the data, replacing earlier ones.

    Where the store keeps staff, the plan is also put in force from ``day`` (default today)
    as dated responsibility of the named people ("who answered for it on 3 May?").
    """
    clean = {str(k): str(v) for k, v in assignment.items()}
    store.set_meta(ASSIGNMENT_META, json.dumps(clean, ensure_ascii=False, sort_keys=True))
    if hasattr(store, "people"):
        from gis.localtime import LOCAL_TZ as TZ
        from gis.people.service import record_districts

        record_districts(store, clean, day or datetime.now(TZ).date(), by=by)


def saved_districts(store: Any) -> dict[str, str]:
    """The saved districts (segment → person); empty when none were saved."""
    raw = store.get_meta(ASSIGNMENT_META)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise StoreError(
            f"the saved districts (store key {ASSIGNMENT_META!r}) are not a JSON object; "
            "save the districts again (patrol districts … --save, or the app's districts page)"
        )
    return {str(k): str(v) for k, v in data.items()}
