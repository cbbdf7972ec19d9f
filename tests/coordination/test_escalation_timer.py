"""Overdue cases escalate without the command: the app checks at most once a minute."""

from __future__ import annotations

import datetime as dt

from gis.access.users import DEMO_PASSWORDS, User
from gis.cases.workflow import Case
from gis.coordination import alerts, handling
from gis.i18n import t
from gis.localtime import LOCAL_TZ as TZ
from gis.settings import Settings
from gis.store import open_store
from tests.app.apptest_helpers import goto, log_in, new_app
from tests.app.test_app_cases import WEST
from ui.common import PAGES_KEY

from .conftest import _app

app_env = _app.app_env
demo_repo = _app.demo_repo
repo = _app.repo
DESK = User("desk", "leadership")


def _store(app_env):
    return open_store(Settings(database_url=app_env["PATROL_DATABASE_URL"]))


def _overdue_case(store, zone_id: str | None, case_id: str = "O1") -> Case:
    """A C04 case whose 2 h notice ran out an hour ago (level 1: the area chief)."""
    now = dt.datetime.now(TZ)
    case = Case(
        case_id=case_id, category="C04", tier="general", state="reported", source="patrol",
        reported_at=now - dt.timedelta(hours=4), lon=WEST[0], lat=WEST[1],
        lead_dept="chengguan", owner="desk", zone_id=zone_id,
        updated_at=now - dt.timedelta(hours=4), updated_by="desk",
    )  # fmt: skip
    store.add_cases([case])
    handling.register_case(store, case_id, DESK, at=now - dt.timedelta(hours=3, minutes=30))
    return handling.serve_notice(store, case_id, DESK, at=now - dt.timedelta(hours=3))


def _escalations(store, case_id: str) -> tuple[list[str], list[str]]:
    ids = [r["alert_id"] for r in alerts.case_alerts(store, case_id) if r["kind"] == "escalation"]
    steps = [a.action for a in store.audit_trail(case_id) if a.action == "escalate"]
    return ids, steps


def test_running_twice_escalates_once(store):
    _overdue_case(store, None)
    first = handling.escalate_overdue(store)
    second = handling.escalate_overdue(store)
    assert list(first.case_id) == ["O1"] and second.empty
    assert _escalations(store, "O1") == (["O1:escalation:1"], ["escalate"])


def test_a_racing_process_does_not_escalate_twice(store_factory, monkeypatch):
    """Two processes (the app's check and the timer's command) start on the same case:
    the one that loses the race finds the alert stored and skips it, without an error."""
    mine, theirs = store_factory(), store_factory()
    _overdue_case(mine, None)
    real = handling._escalate_one
    calls: list = []

    def racing(store, case, lvl, audience, when, who):
        if store is mine and not calls:  # the other process writes between our read
            calls.append(None)  # and our write
            calls[0] = handling.escalate_overdue(theirs, who="timer")
        return real(store, case, lvl, audience, when, who)

    monkeypatch.setattr(handling, "_escalate_one", racing)
    made = handling.escalate_overdue(mine, who="app")
    assert made.empty and list(calls[0].case_id) == ["O1"]
    ids, steps = _escalations(mine, "O1")
    assert (ids, steps) == (["O1:escalation:1"], ["escalate"])
    assert mine.audit_trail("O1")[-1].who == "timer"


def test_the_check_runs_once_per_minute_bucket(app_env, monkeypatch):
    """The cache is the timer: one call per (database, minute); the next minute runs again."""
    from ui import coordination as page

    with _store(app_env) as s:
        _overdue_case(s, None)
    runs = []
    real = handling.escalate_overdue

    def counted(store, **kw):
        runs.append(kw)
        return real(store, **kw)

    monkeypatch.setattr(handling, "escalate_overdue", counted)
    url = app_env["PATROL_DATABASE_URL"]
    bucket = 10**9  # a bucket no other test used
    assert page._escalation_check(url, bucket) == 1
    assert page._escalation_check(url, bucket) == 1  # cached: not run again
    assert len(runs) == 1
    assert page._escalation_check(url, bucket + 1) == 0  # the next minute: nothing new
    assert len(runs) == 2
    with _store(app_env) as s:
        assert _escalations(s, "O1") == (["O1:escalation:1"], ["escalate"])


def test_an_overdue_case_shows_its_escalation_in_the_app(app_env):
    """Nobody ran the command: opening the app escalates, the chief's page shows it."""
    with _store(app_env) as s:
        _overdue_case(s, "110102012001001")  # the demo chief's west zone
        assert _escalations(s, "O1") == ([], [])
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    assert not at.exception
    with _store(app_env) as s:
        assert _escalations(s, "O1") == (["O1:escalation:1"], ["escalate"])
    assert at.session_state[PAGES_KEY]["coordination"].title == t(
        "page.coordination_count", count=1
    )
    assert t("coordination.banner", count=1) in [w.value for w in at.warning]
    at.query_params["case"] = "O1"
    at = goto(at, "cases")
    assert not at.exception and not at.error
    shown = [w.value for w in at.warning]
    assert t("tier.escalated", level=1, to=t("tier.to.1")) in shown
    # the chief acknowledges on 协同: the count and the banner go, the store says who
    at = goto(at, "coordination")
    at = next(b for b in at.button if b.label == t("coordination.ack")).click().run()
    assert at.session_state[PAGES_KEY]["coordination"].title == t("page.coordination")
    assert t("coordination.banner", count=1) not in [w.value for w in at.warning]
    with _store(app_env) as s:
        assert s.coord_get("coord_alerts", "O1:escalation:1")["ack_by"] == "chief"
        assert _escalations(s, "O1") == (["O1:escalation:1"], ["escalate"])  # still once
