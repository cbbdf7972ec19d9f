"""Fixtures of the map readability tests: the browser fixtures of the app tests."""

from __future__ import annotations

from tests.app.conftest import chromium, offline_page

__all__ = ["chromium", "offline_page"]
