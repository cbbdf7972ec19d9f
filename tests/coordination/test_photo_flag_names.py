"""Photo flags are shown by name, never as raw codes, on the coordination page."""

from __future__ import annotations

import re
from pathlib import Path

from ui.coordination import flag_names

EVIDENCE = Path(__file__).parents[2] / "gis" / "coordination" / "evidence.py"


def test_every_flag_the_evidence_module_sets_has_a_chinese_name() -> None:
    codes = set(re.findall(r'flags\.append\("([a-z_]+)"\)', EVIDENCE.read_text(encoding="utf-8")))
    assert {"far", "no_position"} <= codes
    for code in codes:
        text = flag_names(code, "zh")
        assert code not in text and "_" not in text, (code, text)


def test_several_flags_are_joined_and_none_is_a_dash() -> None:
    assert flag_names("far;no_position", "zh") == "拍摄位置离案件较远、照片无位置信息"
    assert flag_names("", "zh") == "—"
    assert flag_names("far", "en") == "taken far from the case"


def test_an_unknown_code_is_shown_literally_not_as_markdown() -> None:
    assert flag_names("![x](http://e/x.png)", "zh").startswith("\\!\\[x\\]")
