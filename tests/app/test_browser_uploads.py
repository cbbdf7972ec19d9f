"""The file uploader's own words in Chromium: Chinese in the Chinese UI, Streamlit's English in
English mode (Streamlit writes them in its frontend, where AppTest cannot see them)."""

from __future__ import annotations

import re

import pytest

from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from tests.app.browser import open_page, settle, shot
from tests.app.test_browser import log_in

pytestmark = pytest.mark.browser

#: Every text a person sees inside an element: rendered text nodes (not hidden, not shrunk to
#: nothing, not an icon ligature drawn as a glyph, not a visually hidden 1 px label) and the
#: text of ``::before`` / ``::after`` boxes.
SEEN_TEXT = """(root) => {
  const out = [];
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    const text = walk.currentNode.textContent.trim();
    if (!text || el.closest('[aria-hidden="true"]')) continue;
    const cs = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (cs.visibility !== 'visible' || parseFloat(cs.fontSize) === 0) continue;
    if (box.width <= 1 || box.height <= 1) continue;
    out.push(text);
  }
  for (const el of [root, ...root.querySelectorAll('*')]) {
    for (const pseudo of ['::before', '::after']) {
      const cs = getComputedStyle(el, pseudo);
      const c = cs.content;
      if (c && c.startsWith('"') && c.length > 2 && parseFloat(cs.fontSize) > 0) {
        out.push(JSON.parse(c));
      }
    }
  }
  return out;
}"""
DROPZONE = '.st-key-cases_upload [data-testid="stFileUploaderDropzone"]'
#: Units and the like that Chinese text writes in Latin letters.
LATIN_OK = {"MB", "KB"}


def _english_words(texts: list[str]) -> list[str]:
    words = [w for s in texts for w in re.findall(r"[A-Za-z]{2,}", s)]
    return [w for w in words if w not in LATIN_OK]


def _drag_over(page) -> None:
    """Drag a file over the drop zone (what the hint is shown for)."""
    files = page.evaluate_handle(
        "() => { const d = new DataTransfer();"
        " d.items.add(new File(['x'], 'a.csv', {type: 'text/csv'})); return d; }"
    )
    page.locator(DROPZONE).dispatch_event("dragenter", {"dataTransfer": files})


def _open_import(page) -> None:
    open_page(page, t("page.cases"), t("cases.title"))
    page.get_by_text(t("cases.import"), exact=True).first.click()
    page.locator(DROPZONE).wait_for(timeout=30_000)


def test_the_uploader_speaks_chinese_in_the_chinese_ui(live_app, offline_page) -> None:
    """Regression: "Upload", "20MB per file • CSV, GEOJSON, JSON" and "Drag and drop a file
    here" were Streamlit's English on the Chinese cases page."""
    page = offline_page
    log_in(page, live_app["url"], "leader", DEMO_PASSWORDS["leader"])
    _open_import(page)
    seen = page.locator(DROPZONE).evaluate(SEEN_TEXT)
    shot(page, "uploader-zh")
    assert t("upload.button") in seen, seen
    assert t("upload.limit", mb=20) in seen, seen  # .streamlit/config.toml maxUploadSize
    assert _english_words(seen) == [], seen
    _drag_over(page)
    page.get_by_text("Drag and drop", exact=False).first.wait_for(state="attached")
    seen = page.locator(DROPZONE).evaluate(SEEN_TEXT)
    assert t("upload.drop") in seen, seen
    assert _english_words(seen) == [], seen
    assert page.locator('[data-testid="stException"]').count() == 0


def test_the_uploader_keeps_streamlits_words_in_english(live_app, offline_page) -> None:
    page = offline_page
    log_in(page, live_app["url"], "leader", DEMO_PASSWORDS["leader"])
    page.locator(".st-key-patrol_lang").click()
    page.get_by_role("option", name="English").click()
    settle(page, maps=False)
    open_page(page, t("page.cases", "en"), t("cases.title", "en"))
    page.get_by_text(t("cases.import", "en"), exact=True).first.click()
    page.locator(DROPZONE).wait_for(timeout=30_000)
    seen = page.locator(DROPZONE).evaluate(SEEN_TEXT)
    assert "Upload" in seen and any("MB per file" in s for s in seen), seen
    assert not any(re.search(r"[\u4e00-\u9fff]", s) for s in seen), seen
    assert page.locator('[data-testid="stException"]').count() == 0


def test_the_login_form_shows_no_english_key_hint_in_chinese(live_app, offline_page) -> None:
    """Regression: typing into the Chinese login form showed Streamlit's "Press Enter to
    submit form" under the field; English mode keeps it."""
    page = offline_page
    page.goto(live_app["url"])
    field = page.get_by_label(t("login.username"))
    field.wait_for(timeout=60_000)
    field.fill("chief")
    form = page.locator('[data-testid="stForm"]').first
    seen = form.evaluate(SEEN_TEXT)
    shot(page, "login-typing-zh")
    assert _english_words(seen) == [], seen
    assert page.locator('[data-testid="InputInstructions"]').count() >= 1  # Streamlit drew it
    assert not page.locator('[data-testid="InputInstructions"]').first.is_visible()
