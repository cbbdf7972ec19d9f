"""The message catalogue is complete in both languages and every key the UI uses exists."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime

import pytest

from gis.access.authorization import PAGES
from gis.access.users import ROLES
from gis.errors import ValidationError
from gis.i18n import (
    MESSAGES,
    check_language,
    format_count,
    format_date,
    format_datetime,
    format_number,
    placeholders,
    t,
)
from tests.app.conftest import REPO_ROOT


def test_every_key_has_both_languages_with_the_same_placeholders() -> None:
    for key, (zh, en) in MESSAGES.items():
        assert zh.strip() and en.strip(), key
        assert placeholders(zh) == placeholders(en), key


def test_chinese_messages_are_chinese() -> None:
    for key, (zh, _en) in MESSAGES.items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), key


def _used_keys() -> set[str]:
    """String literals passed as the first argument of t(...) / c.t(...) in the UI code."""
    keys: set[str] = set()
    files = [REPO_ROOT / "app.py", *sorted((REPO_ROOT / "ui").glob("*.py"))]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            arg = node.args[0]
            if name == "t" and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                keys.add(arg.value)
    return keys


def test_every_literal_key_used_by_the_ui_exists() -> None:
    used = _used_keys()
    assert len(used) > 40
    assert sorted(used - set(MESSAGES)) == []


def test_role_and_page_names_exist() -> None:
    for role in ROLES:
        assert f"role.{role}" in MESSAGES
    for page in PAGES:
        assert f"page.{page}" in MESSAGES


def test_t_formats_and_switches_language() -> None:
    assert t("page.cases") == "案件"
    assert t("page.cases", "en") == "Cases"
    assert t("cases.reported", "zh", case_id="A1") == "已上报案件 A1。"
    with pytest.raises(KeyError):
        t("no.such.key")


def test_chinese_dates_and_numbers() -> None:
    assert format_date(date(2026, 11, 29)) == "2026年11月29日"
    assert format_date(date(2026, 11, 29), "en") == "2026-11-29"
    # 23:30 UTC is already the next morning in Beijing
    late = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    assert format_datetime(late) == "2026年11月29日 07:30"
    assert format_datetime(late, "en") == "2026-11-29 07:30"
    assert format_number(1234) == "1,234"
    assert format_number(1234.56, digits=1) == "1,234.6"
    assert format_count(9_999) == "9999"
    assert format_count(12_000) == "1.2万"
    assert format_count(100_000) == "10万"
    assert format_count(250_000_000) == "2.5亿"
    assert format_count(12_000, "en") == "12,000"
    assert check_language("en") == "en"
    with pytest.raises(ValidationError, match="unknown language 'fr'"):
        check_language("fr")
