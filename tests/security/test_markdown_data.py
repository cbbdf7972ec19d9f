"""Names from OSM or a file reach Markdown-rendering elements as literal text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gis.settings import Settings
from ui.common import Context, plain
from ui.patrol import step_lines

HOSTILE = "![p](https://example.invalid/p.png) [go](https://example.invalid) **big** # h"
#: Markdown syntax characters that must never stand unescaped in a name.
_ACTIVE = re.compile(r"(?<!\\)[!\[\]()*#_`<>]")


@dataclass(frozen=True)
class _Step:
    number: int
    name: str

    def text(self, lang: str = "zh") -> str:
        return f"左转进入{self.name}，向东 120 米"


def test_plain_escapes_every_markdown_character_and_caps_the_length() -> None:
    text = plain(HOSTILE)
    assert not _ACTIVE.findall(text), text
    assert re.sub(r"\\(.)", r"\1", text) == HOSTILE  # shown as itself once rendered
    assert plain("x" * 500, 300) == "x" * 300


def test_step_lines_escape_street_names() -> None:
    c = Context(settings=Settings(), user=None, lang="zh")  # type: ignore[arg-type]
    now, nxt = _Step(1, HOSTILE), _Step(2, "[a](javascript:alert(1))")
    current, following = step_lines(c, now, nxt)
    assert current.endswith("### " + plain(now.text())), current  # the step itself stays large
    assert plain(nxt.text()) in following
    for text in (current.split("### ")[1], following):
        assert not _ACTIVE.findall(text), text


def test_english_error_details_are_escaped() -> None:
    from gis.errors import ValidationError
    from ui.errors import user_message

    text = user_message("en", ValidationError(f"bad name {HOSTILE}"))
    assert not _ACTIVE.findall(text.split("bad name ")[1]), text
