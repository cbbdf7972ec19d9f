"""Who approves a 重大 case: only the area chief of its zone or front, or leadership."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gis.access.users import User
from gis.coordination import alerts, handling
from gis.errors import AuthError, TransitionError

from .conftest import NOW

T0 = NOW - dt.timedelta(days=1)
ZONE_A, ZONE_B = "110102012001001", "110102012001002"
CHIEF_A = User("chief_a", "area_chief", zones=(ZONE_A,))
CHIEF_B = User("chief_b", "area_chief", zones=(ZONE_B,))
FRONT_CHIEF = User("chief_f", "area_chief", fronts=("lakes",))
BOSS = User("boss", "leadership")
OFFICER = User("p1", "patrol", person_id="P01")


@pytest.fixture
def zoned(store, ten_reports):
    """T01 … T10 with T01–T05 in zone A (T03 also on the lakes front), the rest in zone B."""
    reports = [
        dataclasses.replace(r, zone_id=ZONE_A if i < 5 else ZONE_B,
                            front_id="lakes" if r.report_id == "T03" else None)
        for i, r in enumerate(ten_reports)
    ]  # fmt: skip
    store.add_reports(reports, received_by="desk1")
    return store


def test_only_the_zones_chief_sees_and_gives_the_approval(zoned):
    handling.register_case(zoned, "T03", OFFICER, tier="major", at=T0)
    assert [a["alert_id"] for a in alerts.open_alerts(zoned, CHIEF_A)] == ["T03:approval"]
    assert alerts.open_alerts(zoned, CHIEF_B) == []
    with pytest.raises(AuthError, match=f"chief_b.*may not approve case T03.*{ZONE_A}"):
        handling.approve(zoned, "T03", CHIEF_B, at=T0 + dt.timedelta(minutes=1))
    # the refusal changed nothing: still no notice possible
    assert handling.is_approved(zoned, "T03") is None
    with pytest.raises(TransitionError, match="area chief approves"):
        handling.serve_notice(zoned, "T03", OFFICER, at=T0 + dt.timedelta(minutes=2))
    row = handling.approve(zoned, "T03", CHIEF_A, at=T0 + dt.timedelta(minutes=3))
    assert (row["ack_by"], row["note"]) == ("chief_a", "approved")
    assert alerts.open_alerts(zoned, CHIEF_A) == []


def test_the_fronts_chief_and_leadership_may_approve(zoned):
    handling.register_case(zoned, "T03", OFFICER, tier="major", at=T0)
    handling.register_case(zoned, "T07", OFFICER, tier="major", at=T0)
    assert handling.may_approve(FRONT_CHIEF, zoned.get_case("T03"))
    assert not handling.may_approve(FRONT_CHIEF, zoned.get_case("T07"))
    handling.approve(zoned, "T03", FRONT_CHIEF, at=T0 + dt.timedelta(minutes=1))
    with pytest.raises(AuthError, match="may not approve case T07"):
        handling.approve(zoned, "T07", CHIEF_A, at=T0 + dt.timedelta(minutes=1))
    assert handling.approve(zoned, "T07", BOSS, at=T0 + dt.timedelta(minutes=2))["ack_by"] == "boss"


def test_an_approval_cannot_be_acknowledged_around_the_scope(zoned):
    """Acknowledging the approval alert is not a way to approve (nor another zone's alert)."""
    handling.register_case(zoned, "T03", OFFICER, tier="major", at=T0)
    for user in (CHIEF_B, CHIEF_A, BOSS):
        with pytest.raises(AuthError, match="approve the case instead"):
            alerts.acknowledge(zoned, "T03:approval", user, at=T0 + dt.timedelta(minutes=1))
    assert handling.is_approved(zoned, "T03") is None


def test_escalation_reaches_the_zones_chief_only(zoned):
    handling.register_case(zoned, "T07", OFFICER, at=T0)  # zone B, C07 noise
    handling.serve_notice(zoned, "T07", OFFICER, at=T0)
    deadline = zoned.get_case("T07").deadline_at
    made = handling.escalate_overdue(zoned, now=deadline + dt.timedelta(minutes=5))
    assert list(made.loc[made.case_id == "T07", "level"]) == [1]
    assert [a["case_id"] for a in alerts.open_alerts(zoned, CHIEF_B)] == ["T07"]
    assert alerts.open_alerts(zoned, CHIEF_A) == []
    with pytest.raises(AuthError, match="outside the zones of chief_a"):
        alerts.acknowledge(zoned, "T07:escalation:1", CHIEF_A)
