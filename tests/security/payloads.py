"""The hostile corpus for renderers: template, script and markup payloads, and how to judge them.

Every payload is wrapped as ``QQ<payload>ZZ`` so a test can look for what an executed payload
would leave behind (``QQ49ZZ`` where ``{{7*7}}`` was) without tripping over numbers that a
page holds anyway.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

#: The payload from the issue: creates a folder named PWNED in the working directory.
MAKEDIRS = "{{cycler.__init__.__globals__.os.makedirs(dict(PWNED=1)|first,exist_ok=1)}}"
#: Folder names a server-side payload would create (checked in the working directory).
CANARIES = ("PWNED",)


def makedirs_at(folder: Path) -> str:
    """The same payload pointed at an absolute folder (quotes included)."""
    return "{{cycler.__init__.__globals__.os.makedirs('" + str(folder) + "',exist_ok=1)}}"


FAMILIES: dict[str, tuple[str, ...]] = {
    # server-side template injection: expressions, statements, comments
    "jinja_expr": ("{{7*7}}", "{{ 7*7 }}", "{{config}}", "{{self.__init__}}"),
    "jinja_stmt": ("{% for i in range(3) %}X{% endfor %}", "{%raw%}", "{% set x = 1 %}{{x}}"),
    "jinja_comment": ("{# hidden #}", "{#"),
    "jinja_rce": (MAKEDIRS,),
    # broken syntax: one of these used to crash every map page for every user
    "jinja_broken": ("{{", "{%", "{{ 7*", "}}{{", "{% endraw %}", "{{ '"),
    # JavaScript template literal and string breakouts
    "js": (
        "`-alert(document.domain)-`",
        "${alert(1)}",
        "\\`${alert(1)}",
        "`;alert(1);//",
        "trailing backslash\\",
        "');alert(1);//",
        '");alert(1);//',
    ),
    # markup
    "html": (
        "</script><script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '"><svg onload=alert(1)>',
        "'-alert(1)-'",
        "&lt;b&gt;already escaped&lt;/b&gt;",
        "<!--",
        "]]><x>",
    ),
    # odd characters
    "chars": ("a\x00b", "\u202eRTL override\u202c", "line1\nline2", "para\u2028sep", "😀 emoji"),
}


def cut_payloads(limit: int = 80) -> tuple[str, ...]:
    """Payloads that a tooltip cut after ``k`` characters leaves mid-expression, every k."""
    out = []
    for target in ("{{7*7}}", MAKEDIRS):
        for k in range(max(1, limit - len(target)), limit + 1):
            out.append("x" * (k - 2) + target)  # "QQ" takes the first two characters
    return tuple(out)


FAMILIES["jinja_cut"] = cut_payloads()
FAMILIES["long"] = ("长" * 5000 + "{{7*7}}", "A" * 20000 + "</script>")


def wrap(payload: str) -> str:
    """The payload as stored in a test record."""
    return f"QQ{payload}ZZ"


def all_payloads() -> list[tuple[str, str]]:
    """(family, wrapped payload) for every payload of every family."""
    return [(fam, wrap(p)) for fam, ps in FAMILIES.items() for p in ps]


#: What an executed payload leaves in a page.
EXECUTED = re.compile(r"QQ49ZZ|QQXXXZZ|QQ1ZZ|QQ\s*ZZ")


def executed_in(text: str) -> list[str]:
    """Traces of an executed template payload in a rendered page."""
    return EXECUTED.findall(text)


def canaries(*folders: Path) -> list[Path]:
    """Canary folders that exist (a server-side payload ran)."""
    return [f / c for f in folders for c in CANARIES if (f / c).exists()]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.scripts = 0
        self.handlers: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
            self.scripts += tag == "script"
        self.handlers += [k for k, _ in attrs if k.lower().startswith("on")]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(page: str) -> tuple[str, int, list[str]]:
    """Visible text of an HTML page, its number of script elements and any on* attributes."""
    p = _Text()
    p.feed(page)
    p.close()
    return "".join(p.parts), p.scripts, p.handlers


def shown(payload: str) -> str:
    """What a page shows for a payload: the same text minus control characters."""
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", payload)


def escaped_html(payload: str) -> str:
    """The payload as it appears in HTML source when escaped (for error messages)."""
    return html.escape(shown(payload))
