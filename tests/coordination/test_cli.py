"""``patrol dispatch|joint|consult|inspect|photo``: every flow and its bad inputs, by message."""

from __future__ import annotations

import pytest

from gis.access.users import User, hash_password, open_user_repository
from gis.cli import main
from gis.settings import Settings
from gis.store import open_store


@pytest.fixture
def gpkg(tmp_path, monkeypatch):
    path = tmp_path / "cli.gpkg"
    monkeypatch.setenv("PATROL_DATABASE_URL", str(path))
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "no-geography"))
    return path


@pytest.fixture(params=["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)])
def both(request, tmp_path, monkeypatch):
    """The CLI on a GeoPackage file, then on a fresh PostGIS database."""
    if request.param == "geopackage":
        url = str(tmp_path / "cli.gpkg")
    else:
        url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("PATROL_DATABASE_URL", url)
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "no-geography"))
    return url


def _new(case_id, category="C04", at="2026-05-01 17:00"):
    args = ["cases", "new", "--category", category, "--lon", "116.385", "--lat", "39.938"]
    assert main([*args, "--by", "duty", "--id", case_id, "--at", at]) == 0


def test_dispatch_flow(both, capsys):
    _new("N1")
    assert main(["dispatch", "register", "N1", "--by", "duty", "--at", "2026-05-01 17:05"]) == 0
    assert main(["dispatch", "notice", "N1", "--by", "duty", "--hours", "72",
                 "--at", "2026-05-01 17:06"]) == 2  # fmt: skip
    assert "rules give 2 h" in capsys.readouterr().err
    assert main(["dispatch", "notice", "N1", "--by", "duty", "--at", "2026-05-01 17:06"]) == 0
    assert "deadline 2026-05-01 19:06" in capsys.readouterr().out
    assert main(["cases", "advance", "N1", "recheck", "--by", "duty",
                 "--at", "2026-05-01 19:10"]) == 0  # fmt: skip
    assert main(["dispatch", "call", "N1", "--by", "chief", "--depts", "police,月球局",
                 "--at", "2026-05-01 19:20"]) == 2  # fmt: skip
    assert "unknown department '月球局'" in capsys.readouterr().err
    assert main(["dispatch", "call", "N1", "--by", "chief", "--at", "2026-05-01 19:20"]) == 0
    assert "called chengguan, aic, fda" in capsys.readouterr().out
    assert main(["dispatch", "inbox", "fda"]) == 0
    assert "N1" in capsys.readouterr().out
    assert main(["dispatch", "arrive", "N1", "fda", "--by", "li", "--dept-of", "fda",
                 "--at", "2026-05-01 19:00"]) == 2  # fmt: skip
    assert "before it was called" in capsys.readouterr().err
    assert main(["dispatch", "arrive", "N1", "fda", "--by", "li", "--dept-of", "fda",
                 "--at", "2026-05-01 19:45", "--lon", "116.385", "--lat", "39.938"]) == 0  # fmt: skip
    assert main(["dispatch", "punctuality"]) == 0
    out = capsys.readouterr().out
    assert "fda" in out and "chengguan" in out
    with open_store(Settings.from_env()) as store:
        row = store.coord_get("coord_alerts", "N1:dispatch:fda")
        assert row["ack_by"] == "li" and row["ack_lon"] == pytest.approx(116.385)


def _add_users(*users: User) -> None:
    """Users in the store the CLI opens (cheap password hashes: nobody logs in here)."""
    repo = open_user_repository(Settings.from_env())
    for user in users:
        repo.add(user, hash_password("not-used-here", rounds=4))


CHIEF = User(username="chief", role="area_chief", zones=("110102012001001",))
BOSS = User(username="boss", role="leadership")


def test_major_case_from_the_cli(gpkg, capsys):
    _add_users(User(username="duty", role="patrol", person_id="P01"), CHIEF, BOSS)
    _new("M1", category="C01")
    assert main(["dispatch", "register", "M1", "--tier", "major", "--by", "duty"]) == 0
    assert main(["dispatch", "notice", "M1", "--by", "duty"]) == 2
    assert "area chief approves" in capsys.readouterr().err
    assert main(["dispatch", "approve", "M1", "--user", "duty"]) == 2
    # the case has no zone here (no geography): no area chief answers for it, leadership does
    assert main(["dispatch", "approve", "M1", "--user", "chief"]) == 2
    assert "outside their zones (110102012001001)" in capsys.readouterr().err
    assert main(["dispatch", "approve", "M1", "--user", "boss"]) == 0
    assert "M1: approved by boss" in capsys.readouterr().out
    assert main(["dispatch", "alerts", "--by", "boss"]) == 0
    assert "M1:major:leadership" in capsys.readouterr().out
    assert main(["dispatch", "ack", "M1:major:leadership", "--by", "boss"]) == 0
    assert main(["dispatch", "notice", "M1", "--by", "duty"]) == 0


def test_approval_takes_the_user_from_the_store_and_refuses_who_may_not(gpkg, capsys):
    """The approver's role, zones, account state and subdistrict are the store's, not flags:
    each refusal names the user and why, and none of them approves the case."""
    _add_users(
        User(username="duty", role="patrol", person_id="P01"),
        CHIEF,
        User(username="gone", role="leadership", active=False),
        User(username="elsewhere", role="leadership", subdistrict="xinjiekou"),
    )
    _new("M2", category="C01")
    assert main(["dispatch", "register", "M2", "--tier", "major", "--by", "duty"]) == 0
    capsys.readouterr()
    refusals = {
        "nobody": "--user 'nobody' is not a user of",
        "duty": "user 'duty' (patrol) may not approve; an area chief may",
        "chief": "it lies in no zone, outside their zones (110102012001001)",
        "gone": "--user 'gone' is disabled",
        "elsewhere": "belongs to subdistrict 'xinjiekou', not 'shichahai'",
    }
    for name, reason in refusals.items():
        assert main(["dispatch", "approve", "M2", "--user", name]) == 2
        assert reason in capsys.readouterr().err, name
    # the old flags that let anyone claim a chief's zones are gone
    with pytest.raises(SystemExit):
        main(["dispatch", "approve", "M2", "--by", "x", "--role", "leadership"])
    capsys.readouterr()
    assert main(["dispatch", "notice", "M2", "--by", "duty"]) == 2
    assert "area chief approves" in capsys.readouterr().err
    with open_store(Settings.from_env()) as store:
        assert store.coord_get("coord_alerts", "M2:approval")["ack_at"] is None


def test_photo_commands(both, tmp_path, capsys):
    from .photos import jpeg

    _new("P1", at="2026-05-01 17:00")
    good = tmp_path / "before.jpg"
    good.write_bytes(jpeg(lon=116.3852, lat=39.938))
    far = tmp_path / "far.jpg"
    far.write_bytes(jpeg(lon=116.4087, lat=39.938, color=(1, 2, 3)))
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo at all")
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(jpeg() + b"\0" * (50 * 1024 * 1024))
    assert main(["photo", "add", "P1", str(good), "--by", "p1"]) == 0
    assert "before photo stored" in capsys.readouterr().out
    assert main(["photo", "add", "P1", str(far), "--by", "p1"]) == 2
    assert "km from case P1" in capsys.readouterr().err
    assert main(["photo", "add", "P1", str(text), "--by", "p1"]) == 2
    assert "is not a photo" in capsys.readouterr().err
    assert main(["photo", "add", "P1", str(huge), "--by", "p1"]) == 2
    assert "MB" in capsys.readouterr().err
    assert main(["photo", "add", "P1", "/etc/passwd", "--by", "p1"]) == 2
    assert main(["photo", "list", "P1"]) == 0
    out = capsys.readouterr().out
    assert out.count("before") == 1 and "far" not in out
    for action in ("register", "serve_notice", "recheck"):
        assert main(["cases", "advance", "P1", action, "--by", "p1"]) == 0
    assert main(["photo", "close", "P1", "--by", "p1"]) == 2
    assert "needs an after photo" in capsys.readouterr().err
    assert main(["photo", "close", "P1", "--by", "p1", "--reason", "owner removed tables, "
                 "camera broken"]) == 0  # fmt: skip


def test_joint_and_consult_commands(both, tmp_path, capsys):
    _new("J1")
    assert main(["joint", "plan", "--title", "烟袋斜街", "--when", "2026-05-03 16:00",
                 "--depts", "城管,公安", "--cases", "J1,NOPE", "--by", "chief"]) == 2  # fmt: skip
    assert "'NOPE' does not exist" in capsys.readouterr().err
    assert main(["joint", "plan", "--title", "x", "--when", "2026-05-03 16:00", "--depts", "城管",
                 "--area", "POLYGON((1 2", "--by", "chief"]) == 2  # fmt: skip
    assert "--area is not WKT" in capsys.readouterr().err
    assert main(["joint", "plan", "--title", "烟袋斜街", "--when", "2026-05-03 16:00",
                 "--depts", "城管,公安", "--area",
                 "POLYGON((116.38 39.93, 116.39 39.93, 116.39 39.94, 116.38 39.94, 116.38 39.93))",
                 "--by", "chief"]) == 0  # fmt: skip
    action_id = capsys.readouterr().out.split(":")[0]
    out = tmp_path / "brief.html"
    assert main(["joint", "brief", action_id, str(out)]) == 0
    assert "烟袋斜街" in out.read_text(encoding="utf-8")
    assert main(["joint", "close", action_id, "--outcome", "J1", "--by", "chief"]) == 2
    assert main(["joint", "close", action_id, "--outcome", "J1=none", "--by", "chief"]) == 0
    assert main(["joint", "list"]) == 0
    assert "closed" in capsys.readouterr().out
    assert main(["consult", "add", "--held", "2026-05-02 10:00", "--level", "center",
                 "--topic", "外摆", "--attendees", "城管,工商", "--cases", "J1",
                 "--by", "chief"]) == 0  # fmt: skip
    assert main(["consult", "list", "--since", "2026-05-01"]) == 0
    assert "外摆" in capsys.readouterr().out


def test_inspect_commands(both, capsys):
    assert main(["inspect", "add", "--when", "2026-05-05 21:00", "--kind", "dept", "--target",
                 "月球局", "--result", "minor", "--by", "boss"]) == 2  # fmt: skip
    assert "unknown department" in capsys.readouterr().err
    assert main(["inspect", "add", "--when", "2026-05-05 21:00", "--kind", "dept", "--target",
                 "公安", "--result", "minor", "--finding", "慢", "--outcome", "comment",
                 "--by", "boss"]) == 0  # fmt: skip
    assert main(["inspect", "add", "--when", "2026-05-05 21:10", "--kind", "street", "--target",
                 "S1", "--result", "serious", "--outcome", "case", "--category", "C04",
                 "--lon", "116.385", "--lat", "39.938", "--by", "boss"]) == 0  # fmt: skip
    assert "opened" in capsys.readouterr().out
    assert main(["inspect", "review", "--week", "2026-05-04"]) == 0
    out = capsys.readouterr().out
    assert "police" in out and "95.0" in out and "慢" in out


def test_monthly_report_shows_coordination(gpkg, tmp_path, capsys):
    _new("R1", at="2026-05-04 17:00")
    for action, at in (("register", "17:05"), ("serve_notice", "17:06"), ("recheck", "19:10")):
        assert main(["cases", "advance", "R1", action, "--by", "duty",
                     "--at", f"2026-05-04 {at}"]) == 0  # fmt: skip
    assert main(["dispatch", "call", "R1", "--by", "chief", "--depts", "police,fda",
                 "--at", "2026-05-04 19:20"]) == 0  # fmt: skip
    assert main(["dispatch", "arrive", "R1", "police", "--by", "chief", "--role", "area_chief",
                 "--at", "2026-05-04 19:41"]) == 0  # fmt: skip
    assert main(["consult", "add", "--held", "2026-05-06 10:00", "--level", "subdistrict",
                 "--topic", "外摆", "--attendees", "城管", "--by", "chief"]) == 0  # fmt: skip
    assert main(["inspect", "add", "--when", "2026-05-07 21:00", "--kind", "dept", "--target",
                 "police", "--result", "good", "--by", "boss"]) == 0  # fmt: skip
    out = tmp_path / "month.html"
    assert main(["report", "monthly", "--date", "2026-05-15", "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "吹哨报到：各部门到场及时率" in html and "会商与联合执法（对照月度目标）" in html
    assert "明察暗访发现" in html and "按来源的上报" in html
    police = html[html.index('<td class="t">police</td>') :]
    assert police.split("</tr>")[0].count("<td") == 6  # calls, arrivals, on time, rate, median
    # the consultation is counted from the record, not "not recorded"
    assert "未记录" not in html
