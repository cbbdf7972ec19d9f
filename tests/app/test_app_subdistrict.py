"""The app serves each logged-in user the subdistrict of their account (AppTest)."""

from __future__ import annotations

import dataclasses

from gis.access.users import DEMO_PASSWORDS
from gis.settings import Settings
from gis.store import open_store
from tests.app.apptest_helpers import goto, log_in, new_app
from tests.app.test_app_cases import WEST, report

B = "xinjiekou"


def _cases(app_env, subdistrict: str) -> list[str]:
    settings = Settings(database_url=app_env["PATROL_DATABASE_URL"])
    with open_store(settings, subdistrict=subdistrict) as s:
        return [c.case_id for c in s.query_cases()]


def test_a_users_reports_land_in_their_subdistrict_and_others_stay_hidden(
    app_env, demo_repo
) -> None:
    chief, _ = demo_repo.get("chief")
    demo_repo.update(dataclasses.replace(chief, subdistrict=B))
    assert demo_repo.get("chief")[0].subdistrict == B
    at = goto(log_in(new_app(), "chief", DEMO_PASSWORDS["chief"]), "cases")
    at = report(at, *WEST)
    assert not at.exception
    assert at.success[0].value.startswith("已上报案件 ")
    mine = _cases(app_env, B)
    assert len(mine) == 1
    assert _cases(app_env, "shichahai") == []  # not in the default subdistrict
    # a user of the default subdistrict does not see it on the same page
    other = goto(log_in(new_app(), "leader", DEMO_PASSWORDS["leader"]), "cases")
    assert not other.exception
    shown = " ".join(str(e.value) for e in other.markdown) + str(
        [df.value for df in other.dataframe]
    )
    assert mine[0] not in shown
    # and the chief's own page lists it
    again = goto(log_in(new_app(), "chief", DEMO_PASSWORDS["chief"]), "cases")
    shown = " ".join(str(e.value) for e in again.markdown) + str(
        [df.value for df in again.dataframe]
    )
    assert mine[0] in shown
