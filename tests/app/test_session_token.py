"""Signed session tokens: a reload keeps the login (and today's route); forged, expired and
logged-out tokens do not."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta

import pytest

from gis.access.auth import DEMO_PASSWORDS
from gis.access.session_token import InvalidTokenError, SessionTokens, issue_token, read_token
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


def test_revocation_and_the_secret_file(tmp_path) -> None:
    tokens = SessionTokens(tmp_path / "var" / "session-tokens.sqlite")
    token = tokens.issue("chief", issued_at=NOW, expires_at=NOW + timedelta(hours=1))
    assert tokens.verify(token, now=NOW).username == "chief"
    assert stat.S_IMODE((tmp_path / "var" / "session-tokens.sqlite").stat().st_mode) == 0o600
    assert tokens.secret() == tokens.secret()  # made once, then kept
    tokens.revoke(token, now=NOW)
    with pytest.raises(InvalidTokenError, match="logged out"):
        tokens.verify(token, now=NOW)


def _reload(token: str, page: str = "overview"):
    """A browser reload: a new session whose URL still holds the token."""
    at = new_app()
    at.query_params["s"] = token
    goto(at, page)
    return at


def test_a_reload_keeps_the_login_and_todays_route(app_env) -> None:
    """Regression: a reload logged the person out and the route was gone."""
    at = log_in(new_app(), "patrol1", DEMO_PASSWORDS["patrol1"])
    token = at.query_params["s"]
    assert token
    goto(at, "patrol")
    click_button(at, t("patrol.plan"))
    steps = [b for b in at.checkbox if str(b.key).startswith("patrol_done_")]
    steps[0].check().run()  # tick step 1 done
    again = _reload(token[0] if isinstance(token, list) else token, "patrol")
    assert not again.exception
    assert again.session_state["patrol_session"].user.username == "patrol1"
    ticks = {b.key: b.value for b in again.checkbox if str(b.key).startswith("patrol_done_")}
    assert len(ticks) == len(steps) and ticks[steps[0].key] is True
    assert sum(ticks.values()) == 1


def test_logout_revokes_and_a_forged_token_logs_nobody_in(app_env) -> None:
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    token = at.query_params["s"]
    token = token[0] if isinstance(token, list) else token
    click_button(at, t("app.logout"))
    assert "s" not in at.query_params
    again = _reload(token)
    assert "patrol_session" not in again.session_state
    assert [w.value for w in again.warning] == [t("login.expired")]
    forged = _reload(token[:-3] + "abc")
    assert "patrol_session" not in forged.session_state
