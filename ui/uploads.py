"""Streamlit's file uploader in the user's language (Chinese covers Streamlit's English words).

The same style sheet hides Streamlit's English key hints under focused text fields in Chinese.

The uploader's own words (the button, the size limit under it, the hint while a file is dragged
over it) are written by Streamlit's frontend in English, and Streamlit has no language option for
them. In Chinese, one style sheet per run shrinks those texts to nothing and shows the catalogue's
words in their place (a CSS ``::after``); English mode keeps Streamlit's own words. The selectors
follow Streamlit's ``data-testid`` names; the browser test
``tests/app/test_browser_uploads.py`` fails if a Streamlit upgrade renames them.
"""

from __future__ import annotations

import streamlit as st

from gis.i18n import t

DROPZONE = '[data-testid="stFileUploaderDropzone"]'
#: (selector of an element whose whole text is Streamlit's English, catalogue key of the words
#: shown instead). The drag hint is the dropzone's only child ``div`` without a test id that
#: holds a ``span`` (the list of uploaded files is a ``div`` of ``div`` elements).
REPLACED: tuple[tuple[str, str], ...] = (
    (
        f'{DROPZONE} [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p',
        "upload.button",
    ),
    ('[data-testid="stFileUploaderDropzoneInstructions"] span', "upload.limit"),
    (f"{DROPZONE} > div:not([data-testid]) > span", "upload.drop"),
)
#: Streamlit's English hints under a focused text field ("Press Enter to submit form", "Press
#: Enter to apply", "Press ⌘+Enter to apply"): hidden in Chinese rather than replaced, since one
#: Chinese text could not say which key each field takes; the form's buttons say what to do.
HIDDEN: tuple[str, ...] = ('[data-testid="InputInstructions"]',)
#: Streamlit draws all three texts at 0.875rem.
FONT_SIZE = ".875rem"


def css_string(text: str) -> str:
    """``text`` as a CSS string literal (quotes, backslashes, line breaks and ``<`` escaped, so
    it can neither end the string nor the ``<style>`` element)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ").replace("<", "\\3c ")
    return f'"{out}"'


def uploader_css(lang: str, max_mb: int) -> str:
    """The style sheet that puts the catalogue's words over Streamlit's English in ``lang``
    (empty in English: Streamlit's own words are English)."""
    if lang == "en":
        return ""
    rules = []
    for selector, key in REPLACED:
        words = css_string(t(key, lang, mb=max_mb))
        rules.append(f"{selector} {{ font-size: 0; }}")
        rules.append(f"{selector}::after {{ content: {words}; font-size: {FONT_SIZE}; }}")
    rules.extend(f"{selector} {{ display: none; }}" for selector in HIDDEN)
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def localise_uploaders(lang: str) -> None:
    """Add :func:`uploader_css` for this run (a style-only element takes no space)."""
    css = uploader_css(lang, int(st.get_option("server.maxUploadSize")))
    if css:
        st.html(css)
