"""The ``patrol users`` command."""

from __future__ import annotations

import io
import sys

import pytest

from gis.access.users import SqliteUserRepository, check_password
from gis.cli import main


def run(monkeypatch, args: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["users", *args])


def test_add_list_passwd(monkeypatch, tmp_path, capsys) -> None:
    store = tmp_path / "patrol.gpkg"
    monkeypatch.setenv("PATROL_DATABASE_URL", str(store))
    monkeypatch.setattr("gis.access.users.BCRYPT_ROUNDS", 4)
    args = [
        "add",
        "zhang",
        "--role",
        "area_chief",
        "--name",
        "张三",
        "--zones",
        "110102012001001, 110102012001002",
        "--password-stdin",
    ]
    assert run(monkeypatch, args, "first-pass-1\n") == 0
    assert run(monkeypatch, ["list"]) == 0
    out = capsys.readouterr().out
    assert "zhang" in out and "area_chief" in out and "110102012001001,110102012001002" in out
    assert "1 user(s)" in out
    user, hashed = SqliteUserRepository(store).get("zhang")
    assert user.zones == ("110102012001001", "110102012001002")
    assert check_password("first-pass-1", hashed)
    # a session opened with the first password ends with the change
    from datetime import timedelta

    from gis.access.session_token import InvalidTokenError, SessionTokens
    from gis.access.users import utcnow

    tokens = SessionTokens(store)
    now = utcnow()
    token = tokens.issue("zhang", issued_at=now, expires_at=now + timedelta(hours=1))
    capsys.readouterr()
    assert run(monkeypatch, ["passwd", "zhang", "--password-stdin"], "second-pass-2\n") == 0
    assert "1 open session(s) logged out" in capsys.readouterr().out
    assert check_password("second-pass-2", SqliteUserRepository(store).get("zhang")[1])
    with pytest.raises(InvalidTokenError, match="logged out"):
        tokens.verify(token, now=utcnow())


def test_bad_input_is_a_one_line_error(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("PATROL_DATABASE_URL", str(tmp_path / "patrol.gpkg"))
    assert (
        run(monkeypatch, ["add", "li", "--role", "patrol", "--password-stdin"], "pw-long-1\n") == 2
    )
    assert "has no person id" in capsys.readouterr().err
    assert run(monkeypatch, ["add", "li", "--role", "admin", "--password-stdin"], "short\n") == 2
    assert "at least 8" in capsys.readouterr().err
    assert run(monkeypatch, ["passwd", "ghost", "--password-stdin"], "pw-long-1\n") == 2
    assert "no user called 'ghost'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(monkeypatch, ["add", "li", "--role", "boss"])
