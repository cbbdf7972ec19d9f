"""The 协同 page through AppTest: log a consultation, plan and close a joint action."""

from __future__ import annotations

from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from gis.settings import Settings
from gis.store import open_store
from tests.app.apptest_helpers import click_button, goto, log_in, new_app
from tests.app.test_app_cases import WEST, chief_on_cases, report

from .conftest import _app

app_env = _app.app_env
demo_repo = _app.demo_repo
repo = _app.repo


def _store(app_env):
    return open_store(Settings(database_url=app_env["PATROL_DATABASE_URL"]))


def test_consultation_and_joint_action_from_the_page(app_env) -> None:
    report(chief_on_cases(), *WEST)
    with _store(app_env) as s:
        (case,) = s.query_cases()
    at = goto(log_in(new_app(), "chief", DEMO_PASSWORDS["chief"]), "coordination")
    assert not at.exception, at.exception
    at.text_input(key="coord_ktopic").input("外摆整治")
    at.text_input(key="coord_kpeople").input("城管,工商")
    at.multiselect(key="coord_kcases").select(case.case_id)
    at = click_button(at, t("coordination.log"))
    assert not at.exception
    assert at.success[0].value.startswith("已记录会商 ")
    with _store(app_env) as s:
        assert s.coord_rows("coord_consultations")[0]["cases"] == case.case_id
    # a consultation without attendees is refused and nothing is stored
    at.text_input(key="coord_ktopic").input("空")
    at.text_input(key="coord_kpeople").input("")
    at = click_button(at, t("coordination.log"))
    assert "attendees" in at.error[0].value
    with _store(app_env) as s:
        assert len(s.coord_rows("coord_consultations")) == 1
    at.text_input(key="coord_jtitle").input("烟袋斜街联合执法")
    at.multiselect(key="coord_jdepts").select("chengguan").select("police")
    at.multiselect(key="coord_jcases").select(case.case_id)
    at = click_button(at, t("coordination.plan"))
    assert at.success[0].value.startswith("已计划联合执法 ")
    at = click_button(at, t("coordination.close_joint"))
    assert at.success[0].value.endswith("已完成。")
    with _store(app_env) as s:
        (row,) = s.coord_rows("coord_joint_actions")
        assert row["state"] == "closed" and row["depts"] == "chengguan;police"


def test_inspection_from_the_page_scores_the_department(app_env) -> None:
    at = goto(log_in(new_app(), "leader", DEMO_PASSWORDS["leader"]), "coordination")
    at.selectbox(key="coord_ikind").set_value("dept")
    at.text_input(key="coord_itarget").input("月球局")
    at.radio(key="coord_iresult").set_value("serious")
    at = click_button(at, t("coordination.record"))
    assert "unknown department" in at.error[0].value
    at.text_input(key="coord_itarget").input("公安")
    at = click_button(at, t("coordination.record"))
    assert at.success[0].value == t("coordination.recorded")
    table = at.dataframe[0].value
    who, score = t("coordination.review.col.who"), t("coordination.review.col.score")
    assert list(table[who]) == ["公安"] and list(table[score]) == [85.0]  # names, not codes


def test_major_case_banner_on_every_page_until_acknowledged(app_env) -> None:
    from gis.access.users import User
    from gis.coordination import handling

    report(chief_on_cases(), *WEST)
    with _store(app_env) as s:
        (case,) = s.query_cases()
        handling.register_case(s, case.case_id, User("chief", "area_chief", zones=("z",)),
                               tier="major")  # fmt: skip
    banner = t("coordination.banner", count=1)
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    assert [w.value for w in at.warning] == [banner]  # on the overview
    at = goto(at, "hotspots")
    assert banner in [w.value for w in at.warning]
    at = goto(at, "coordination")
    ack = [b for b in at.button if b.label == t("coordination.ack")]
    at = ack[0].click().run()
    assert banner not in [w.value for w in at.warning]
    with _store(app_env) as s:
        rows = s.coord_rows("coord_alerts", {"kind": "major"})
        assert rows[0]["ack_by"] == "leader"


def test_inspection_from_the_page_opens_a_case(app_env) -> None:
    at = goto(log_in(new_app(), "leader", DEMO_PASSWORDS["leader"]), "coordination")
    at.text_input(key="coord_itarget").input("公安")
    at.radio(key="coord_iresult").set_value("serious")
    at.text_area(key="coord_ifind").input("门前堆物未清")
    at.radio(key="coord_ioutcome").set_value("case")
    at.selectbox(key="coord_icategory").set_value("C04")
    at = click_button(at, t("coordination.record"))
    assert at.error[0].value == t("cases.no_point")
    at.number_input(key="coord_ilon").set_value(WEST[0])
    at.number_input(key="coord_ilat").set_value(WEST[1])
    at = click_button(at, t("coordination.record"))
    assert not at.exception, at.exception
    with _store(app_env) as s:
        (row,) = s.coord_rows("coord_inspections")
        (case,) = s.query_cases()
    assert row["outcome"] == "case" and row["case_id"] == case.case_id
    assert case.category == "C04" and case.source == "inspection"
    assert at.success[0].value == t("coordination.recorded_case", case=case.case_id)


def test_joint_action_and_consultation_offer_only_cases_in_scope(app_env, demo_repo) -> None:
    from gis.access.users import User, hash_password

    report(chief_on_cases(), *WEST)  # a case in the demo chief's zone
    demo_repo.add(User("chief2", "area_chief", "二片长", zones=("elsewhere",)),
                  hash_password("chief2-pw-1", rounds=4))  # fmt: skip
    at = goto(log_in(new_app(), "chief2", "chief2-pw-1"), "coordination")
    assert not at.exception, at.exception
    assert at.multiselect(key="coord_jcases").options == []
    assert at.multiselect(key="coord_kcases").options == []
    at = goto(log_in(new_app(), "chief", DEMO_PASSWORDS["chief"]), "coordination")
    assert len(at.multiselect(key="coord_kcases").options) == 1
