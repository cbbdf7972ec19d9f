"""Signed sessions in the store: a reload keeps the login (and today's route); forged, expired
and logged-out tokens do not; a second instance on the same store accepts the session."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from gis.access.db import SqliteAccessDB
from gis.access.session_token import (
    HANDOFF_SECONDS,
    InvalidTokenError,
    SessionTokens,
    issue_token,
    read_token,
)
from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from tests.app.apptest_helpers import click_button, goto, log_in, new_app

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = b"k" * 32


def _token(**kw) -> str:
    return issue_token(
        SECRET, "chief", issued_at=NOW, expires_at=kw.pop("exp", NOW + timedelta(hours=8)), **kw
    )


def test_a_token_round_trips_and_carries_no_secret() -> None:
    token = _token()
    claims = read_token(SECRET, token, now=NOW + timedelta(hours=1))
    assert claims.username == "chief" and claims.expires_at == NOW + timedelta(hours=8)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert set(payload) == {"v", "u", "sid", "iat", "exp"}  # no password, hash or scope


@pytest.mark.parametrize(
    "mangle",
    [
        lambda tok: tok[:-2] + ("AA" if not tok.endswith("AA") else "BB"),  # signature
        lambda tok: _b64_claims(tok, u="leader") + "." + tok.split(".")[1],  # payload
        lambda tok: tok.split(".")[0],  # unsigned
        lambda tok: "x" * 600,
    ],
)
def test_forged_or_altered_tokens_are_refused(mangle) -> None:
    with pytest.raises(InvalidTokenError):
        read_token(SECRET, mangle(_token()), now=NOW)


def _b64_claims(tok: str, **change) -> str:
    payload = json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "=="))
    payload.update(change)
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_expired_and_other_secret_tokens_are_refused() -> None:
    with pytest.raises(InvalidTokenError, match="expired"):
        read_token(SECRET, _token(), now=NOW + timedelta(hours=8))
    with pytest.raises(InvalidTokenError, match="signature"):
        read_token(b"other" * 8, _token(), now=NOW)


def test_sessions_live_in_the_store_and_logout_revokes(tmp_path) -> None:
    store = tmp_path / "patrol.gpkg"
    tokens = SessionTokens(SqliteAccessDB(store))
    token = tokens.issue("chief", issued_at=NOW, expires_at=NOW + timedelta(hours=1))
    assert tokens.verify(token, now=NOW).username == "chief"
    # another app instance on the same store: same secret, same session
    other = SessionTokens(SqliteAccessDB(store))
    assert other.secret() == tokens.secret()
    assert other.verify(token, now=NOW).username == "chief"
    assert not (tmp_path / "session-tokens.sqlite").exists()  # no file beside the store
    other.revoke(token, now=NOW)  # logged out on the other instance
    with pytest.raises(InvalidTokenError, match="logged out"):
        tokens.verify(token, now=NOW)


def test_expired_unknown_and_tampered_sessions_are_refused(tmp_path) -> None:
    tokens = SessionTokens(SqliteAccessDB(tmp_path / "patrol.gpkg"))
    token = tokens.issue("chief", issued_at=NOW, expires_at=NOW + timedelta(hours=1))
    with pytest.raises(InvalidTokenError, match="expired"):
        tokens.verify(token, now=NOW + timedelta(hours=1))
    # signed with the store's secret but never started in the store
    stray = issue_token(
        tokens.secret(), "chief", issued_at=NOW, expires_at=NOW + timedelta(hours=1)
    )
    with pytest.raises(InvalidTokenError, match="not known"):
        tokens.verify(stray, now=NOW)
    # another user's name in a real session's payload
    forged = _b64_claims(token, u="leader") + "." + token.split(".")[1]
    with pytest.raises(InvalidTokenError, match="signature"):
        tokens.verify(forged, now=NOW)
    # the store's expiry wins over a token that claims more time
    with tokens.db.tx() as cur:
        cur.execute(
            "UPDATE patrol_sessions SET expires_at = ?",
            (tokens.db.time(NOW + timedelta(minutes=5)),),
        )
    with pytest.raises(InvalidTokenError, match="expired"):
        tokens.verify(token, now=NOW + timedelta(minutes=6))


def test_the_login_code_is_used_once_and_only_briefly(tmp_path) -> None:
    tokens = SessionTokens(SqliteAccessDB(tmp_path / "patrol.gpkg"))
    token, code = tokens.start("chief", issued_at=NOW, expires_at=NOW + timedelta(hours=8))
    got, expires = tokens.exchange(code, now=NOW + timedelta(seconds=5))
    assert got == token and expires == NOW + timedelta(hours=8)
    with pytest.raises(InvalidTokenError, match="unknown, used or too old"):
        tokens.exchange(code, now=NOW + timedelta(seconds=6))
    _, late = tokens.start("chief", issued_at=NOW, expires_at=NOW + timedelta(hours=8))
    with pytest.raises(InvalidTokenError, match="too old"):
        tokens.exchange(late, now=NOW + timedelta(seconds=HANDOFF_SECONDS))
    revoked, code3 = tokens.start("chief", issued_at=NOW, expires_at=NOW + timedelta(hours=8))
    tokens.revoke(revoked, now=NOW)
    with pytest.raises(InvalidTokenError):
        tokens.exchange(code3, now=NOW)
    with tokens.db.tx() as cur:  # only hashes of codes are stored
        rows = cur.execute("SELECT handoff_hash FROM patrol_sessions").fetchall()
    assert code not in str(rows) and late not in str(rows)


def _reload(monkeypatch, token: str, page: str = "overview"):
    """A browser reload: a new session whose request carries the session cookie."""
    monkeypatch.setattr("ui.common.session_cookie", lambda: token)
    at = new_app()
    goto(at, page)
    return at


def test_a_reload_keeps_the_login_and_todays_route(app_env, monkeypatch) -> None:
    """Regression: a reload logged the person out and the route was gone."""
    at = log_in(new_app(), "patrol1", DEMO_PASSWORDS["patrol1"])
    token = at.session_state["patrol_token"]
    assert token and "s" not in at.query_params  # never in the URL
    goto(at, "patrol")
    click_button(at, t("patrol.plan"))
    steps = [b for b in at.checkbox if str(b.key).startswith("patrol_done_")]
    steps[0].check().run()  # tick step 1 done
    again = _reload(monkeypatch, token, "patrol")
    assert not again.exception
    assert again.session_state["patrol_session"].user.username == "patrol1"
    ticks = {b.key: b.value for b in again.checkbox if str(b.key).startswith("patrol_done_")}
    assert len(ticks) == len(steps) and ticks[steps[0].key] is True
    assert sum(ticks.values()) == 1


def test_logout_revokes_and_a_forged_token_logs_nobody_in(app_env, monkeypatch) -> None:
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    token = at.session_state["patrol_token"]
    click_button(at, t("app.logout"))
    assert "patrol_session" not in at.session_state
    again = _reload(monkeypatch, token)
    assert "patrol_session" not in again.session_state
    assert [w.value for w in again.warning] == [t("login.expired")]
    forged = _reload(monkeypatch, token[:-3] + "abc")
    assert "patrol_session" not in forged.session_state


def test_a_token_in_the_url_is_ignored_and_removed(app_env) -> None:
    """Releases before the cookie put the token in ``?s=``: it logs nobody in any more."""
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    token = at.session_state["patrol_token"]
    fresh = new_app()
    fresh.query_params["s"] = token
    fresh.run()
    assert "patrol_session" not in fresh.session_state
    assert "s" not in fresh.query_params
