"""My day lists its case stops with headers in the user's language and categories by name."""

from __future__ import annotations

from gis.cases.categories import load_references
from gis.i18n import t
from gis.people.dayplan import Stop
from gis.settings import Settings
from ui.common import Context
from ui.myday import stops_table


def test_stops_show_category_names_under_chinese_headers() -> None:
    refs = load_references()
    code = next(iter(refs.categories))
    c = Context(settings=Settings(), user=None, lang="zh")  # type: ignore[arg-type]
    stop = Stop("R1", code, "registered", None, 116.38, 39.94, "烟袋斜街")
    (row,) = stops_table(c, [stop])
    assert row == {
        "#": 1,
        t("cases.id"): "R1",
        t("cases.category"): refs.categories[code].name_zh,
        t("col.street"): "烟袋斜街",
    }
