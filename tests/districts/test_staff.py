"""The staff table: validation names row and field; the demo is 24 fictitious residents."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gis.errors import ValidationError
from gis.people.staff_table import (
    demo_staff_path,
    load_staff,
    resident_officers,
    save_staff,
    validate_staff,
)
from gis.settings import BUNDLED_DATA_DIR


def _frame(**over) -> pd.DataFrame:
    rec = {
        "person_id": ["A1", "A2"],
        "name": ["甲", "乙"],
        "role": ["duty_officer", "auxiliary"],
        "department": ["城管", "公安"],
        "presence": ["resident", "on_call"],
        "phone": ["010-0000-0001", "010-0000-0002"],
        "shift": ["morning", ""],
    }
    rec.update(over)
    return pd.DataFrame(rec)


def test_person_without_name_names_row_and_field() -> None:
    with pytest.raises(ValidationError, match=r"row 2, field 'name': person A2 has no name"):
        validate_staff(_frame(name=["甲", "  "]))


def test_duplicate_and_unknown_values() -> None:
    with pytest.raises(ValidationError, match=r"row 2, field 'person_id'.*repeats row 1"):
        validate_staff(_frame(person_id=["A1", "A1"]))
    with pytest.raises(ValidationError, match=r"field 'presence': unknown presence 'sometimes'"):
        validate_staff(_frame(presence=["resident", "sometimes"]))


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = save_staff(_frame(), tmp_path / "staff.csv")
    back = load_staff(path)
    assert list(back["person_id"]) == ["A1", "A2"]
    assert back.loc[0, "phone"] == "010-0000-0001"
    assert back.loc[1, "shift"] == ""


def test_bad_table_is_not_saved(tmp_path: Path) -> None:
    out = tmp_path / "staff.csv"
    with pytest.raises(ValidationError):
        save_staff(_frame(name=["甲", None]), out)
    assert not out.exists()


def test_demo_staff_is_24_fictitious_residents() -> None:
    staff = load_staff(demo_staff_path(BUNDLED_DATA_DIR))
    residents = resident_officers(staff)
    assert len(residents) == 24
    assert staff["fictitious"].all()
    assert (staff["presence"] == "on_call").sum() >= 1
