"""Hostile staff tables (gis/people/staff_table.py): names are text, files are opened like uploads."""

from __future__ import annotations

import pandas as pd
import pytest

from gis.errors import ValidationError
from gis.people.staff_table import STAFF_COLUMNS, load_staff, validate_staff
from tests.security import input_payloads as P


def table(name: str) -> pd.DataFrame:
    return pd.DataFrame(
        [{"person_id": "P01", "name": name, "role": "duty_officer", "department": "城管",
          "presence": "resident", "phone": "", "shift": "", "fictitious": "true"}]
    )  # fmt: skip


@pytest.mark.parametrize("name", P.INERT_TEXT)
def test_payload_names_are_kept_as_text(name) -> None:
    assert validate_staff(table(name))["name"].iloc[0] == name.strip()


@pytest.mark.parametrize("name", [*P.CONTROL, P.HUGE_TEXT])
def test_control_bytes_and_huge_names_are_refused(name) -> None:
    with pytest.raises(ValidationError, match="name"):
        validate_staff(table(name))


def test_staff_file_is_not_followed_through_a_link(tmp_path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET:/root:/bin/bash\n", encoding="utf-8")
    link = tmp_path / "staff.csv"
    link.symlink_to(secret)
    with pytest.raises(ValidationError, match="symbolic link") as exc:
        load_staff(link)
    assert "SECRET" not in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        load_staff(secret)  # a server file given directly: a message, not a ParserError
    assert "SECRET" not in str(exc.value)
    with pytest.raises(ValidationError):
        load_staff("/dev/zero")


def test_binary_staff_file_gets_a_message(tmp_path) -> None:
    path = tmp_path / "staff.csv"
    path.write_bytes(",".join(STAFF_COLUMNS).encode() + b"\n\xff\xfe\x00garbage")
    with pytest.raises(ValidationError, match="UTF-8"):
        load_staff(path)
