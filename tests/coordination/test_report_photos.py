"""The monthly report's 整改前后对比 section: thumbnails of the month's cases closed as 已整改."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re

from PIL import Image

from gis.access.users import User
from gis.coordination import evidence
from gis.services.reports import ReportRequest, produce_report

from .conftest import NOW
from .photos import jpeg
from .test_photo_popups import PAYLOAD, _polyglot

USER = User(username="p1", role="patrol", person_id="P01")
SECTION = '<h2 id="rectified-photos">'


def _close(store, case_id: str, action: str, at: dt.datetime, note: str = "") -> None:
    case = store.get_case(case_id)
    steps = ["register", "serve_notice", "recheck", action]
    if action == "verify_close":
        steps = ["register", "call_joint", "handle", action]
    for i, step in enumerate(steps):
        case = store.apply_transition(case_id, step, who="p1", expected_version=case.version,
                                      at=at + dt.timedelta(minutes=i),
                                      note=note if step == action else "")  # fmt: skip


def _report(store, day: str, lang: str = "zh") -> str:
    frame = store.cases_frame()
    request = ReportRequest("monthly", day, lang=lang, with_map=False, with_scorecard=False)
    html = produce_report(None, frame, request, store=store).html
    assert html is not None
    return html


def test_monthly_report_shows_before_and_after_of_rectified_cases(loaded):
    may = NOW - dt.timedelta(days=3)  # 29 May
    evidence.add_photo(loaded, "T01", _polyglot(), USER, kind="before", at=may)
    evidence.add_photo(loaded, "T01", jpeg(color=(0, 160, 0), size=(400, 300)), USER,
                       kind="after", at=may)  # fmt: skip
    _close(loaded, "T01", "close_rectified", may)
    # closed as rectified with a reason instead of an after photo
    evidence.add_photo(loaded, "T02", jpeg(color=(9, 9, 200)), USER, kind="before", at=may)
    _close(loaded, "T02", "close_rectified", may, note="摊位已撤，现场无可拍")
    # photos, but closed another way; and a rectified case of June
    evidence.add_photo(loaded, "T03", jpeg(color=(90, 9, 9)), USER, kind="before", at=may)
    _close(loaded, "T03", "verify_close", may)
    evidence.add_photo(loaded, "T04", jpeg(color=(9, 90, 9)), USER, kind="after", at=NOW)
    _close(loaded, "T04", "close_rectified", NOW + dt.timedelta(hours=1))

    html = _report(loaded, "2026-05-15")
    section = html[html.index(SECTION) : html.index("</body>")]
    rows = re.findall(r"<tr><td>(T\d\d)</td>", section)
    assert rows == ["T01", "T02"]
    srcs = re.findall(r'<img src="([^"]+)"', section)
    assert len(srcs) == 3 and all(s.startswith("data:image/jpeg;base64,") for s in srcs)
    sizes = []
    for s in srcs:
        data = base64.b64decode(s.split(",", 1)[1])
        assert b"script" not in data
        with Image.open(io.BytesIO(data)) as img:
            sizes.append(img.size)
    assert sizes == [(160, 107), (160, 120), (64, 48)]
    assert "无整改后照片，理由：摊位已撤，现场无可拍" in section
    assert "QQ49ZZ" not in html and base64.b64encode(PAYLOAD).decode() not in html
    assert "http://" not in section and "https://" not in section

    june = _report(loaded, "2026-06-15", lang="en")
    assert re.findall(r"<tr><td>(T\d\d)</td>", june[june.index(SECTION) :]) == ["T04"]
    april = _report(loaded, "2026-04-15")
    assert "本月没有附照片的已整改结案案件。" in april[april.index(SECTION) :]


def test_weekly_report_has_no_photo_section(loaded):
    frame = loaded.cases_frame()
    request = ReportRequest("weekly", "2026-05-27", with_map=False, with_scorecard=False)
    assert SECTION not in (produce_report(None, frame, request, store=loaded).html or "")
