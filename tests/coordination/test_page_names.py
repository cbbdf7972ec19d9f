"""The coordination page shows names, never raw codes: photo flags, the weekly review."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from gis.coordination.evidence import FLAGS
from gis.coordination.inspections import SCORE_POINTS
from ui.coordination import flag_names, review_frame

EVIDENCE = Path(__file__).parents[2] / "gis" / "coordination" / "evidence.py"


def test_every_flag_the_evidence_module_sets_has_a_chinese_name() -> None:
    codes = set(re.findall(r'flags\.append\("([a-z_]+)"\)', EVIDENCE.read_text(encoding="utf-8")))
    assert {"far", "no_position"} <= codes
    assert codes <= set(FLAGS), "a flag the module sets is missing from evidence.FLAGS"
    for code in FLAGS:
        text = flag_names(code, "zh")
        assert code not in text and "_" not in text, (code, text)


def test_several_flags_are_joined_and_none_is_a_dash() -> None:
    assert flag_names("far;no_position", "zh") == "拍摄位置离案件较远、照片无位置信息"
    assert flag_names("", "zh") == "—"
    assert flag_names("far", "en") == "taken far from the case"


def test_an_unknown_code_is_shown_literally_not_as_markdown() -> None:
    assert flag_names("![x](http://e/x.png)", "zh").startswith("\\!\\[x\\]")


def test_weekly_review_columns_and_people_are_named() -> None:
    table = pd.DataFrame(
        [{"who": "P001", **dict.fromkeys(SCORE_POINTS, 0), "score": 100.0}],
        columns=["who", *SCORE_POINTS, "score"],
    )
    shown = review_frame(table, "zh", {"P001": "张三"})
    assert list(shown.iloc[:, 0]) == ["张三"]
    for col in shown.columns:
        assert not any(ch.isascii() and ch.isalpha() for ch in col), col
    assert list(review_frame(table, "en", {}).iloc[:, 0]) == ["P001"]
