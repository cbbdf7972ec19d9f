"""街巷长 signboards: one printable HTML page per responsible person (no external URLs)."""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gis.errors import ValidationError
from gis.i18n import t
from gis.people.staff import Person, with_people

log = logging.getLogger(__name__)

#: The lane chief's standing duties (Beijing practice: 巡、听、访、管、督), as catalogue keys.
DUTIES: tuple[str, ...] = ("patrol", "listen", "visit", "manage", "oversee")


def _both(key: str, **fmt: object) -> str:
    """A catalogue text as the signboard prints it: Chinese, then English."""
    return f"{t(key, 'zh', **fmt)} {t(key, 'en', **fmt)}"


_CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; color: #111; }
.board { border: 6px solid #b71c1c; padding: 18px 24px; max-width: 170mm; margin: auto; }
h1 { color: #b71c1c; text-align: center; font-size: 30pt; margin: 0 0 4px 0; letter-spacing: 8px; }
.sub { text-align: center; font-size: 11pt; margin-bottom: 14px; }
table.who { width: 100%; border-collapse: collapse; font-size: 15pt; }
table.who td { border: 1px solid #999; padding: 6px 10px; }
table.who td.k { width: 28%; background: #f5f5f5; }
h2 { font-size: 14pt; border-bottom: 2px solid #b71c1c; margin-top: 16px; }
ul { font-size: 12pt; line-height: 1.5; }
.fict { color: #b71c1c; font-weight: bold; text-align: center; margin-top: 12px; }
"""


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def signboard_html(
    person: dict,
    streets: Sequence[str],
    *,
    unnamed: int = 0,
    title: str | None = None,
    subdistrict: str | None = None,
) -> str:
    """The signboard of one person as a complete, self-contained HTML page.

    Parameters
    ----------
    person
        A staff record: ``person_id``, ``name``, ``phone``, optionally ``department``,
        ``shift`` and ``fictitious``.
    streets
        Street names (Chinese) of the person's district.
    unnamed
        Number of unnamed lane segments in the district (listed as one line).
    """
    name = _text(person.get("name")).strip()
    if not name:
        raise ValidationError(
            f"person {person.get('person_id')!r} has no name",
            source="staff",
            field="name",
            fix="a signboard needs the responsible person's name",
        )
    e = html.escape
    title = title if title is not None else t("signboard.title")
    subdistrict = subdistrict if subdistrict is not None else t("signboard.subdistrict")
    rows = [
        (_both("signboard.chief"), name),
        (_both("signboard.phone"), _text(person.get("phone"))),
        (_both("signboard.department"), _text(person.get("department"))),
        (_both("signboard.id"), _text(person.get("person_id"))),
    ]
    row_html = "\n".join(f'<tr><td class="k">{e(k)}</td><td>{e(v)}</td></tr>' for k, v in rows)
    items = [f"<li>{e(s)}</li>" for s in streets]
    if unnamed:
        n = int(unnamed)
        items.append(
            f"<li>{e(t('signboard.unnamed', 'zh', n=n))} ({e(t('signboard.unnamed', 'en', n=n))})</li>"
        )
    streets_html = "\n".join(items) or "<li>—</li>"
    duties_html = "\n".join(
        f"<li><b>{e(t(f'signboard.duty.{k}'))}</b>：{e(t(f'signboard.duty.{k}.text'))} — "
        f"{e(t(f'signboard.duty.{k}.text', 'en'))}</li>"
        for k in DUTIES
    )
    fict = ""
    if person.get("fictitious") in (True, "True", "true", "虚构", "1", 1):
        zh, en = t("signboard.fictitious"), t("signboard.fictitious", "en")
        fict = f'<p class="fict">{e(zh)} ({e(en)})</p>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{e(title)} {e(name)}</title><style>{_CSS}</style></head>\n"
        '<body><div class="board">\n'
        f"<h1>{e(title)}</h1>\n"
        f'<div class="sub">{e(subdistrict)} · {e(t("signboard.motto"))}</div>\n'
        f'<table class="who">\n{row_html}\n</table>\n'
        f"<h2>{e(_both('signboard.streets'))}</h2>\n<ul>\n{streets_html}\n</ul>\n"
        f"<h2>{e(_both('signboard.duties'))}</h2>\n<ul>\n{duties_html}\n</ul>\n"
        f"{fict}\n</div></body></html>\n"
    )


_SAFE_STEM = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff]{1,64}")


def signboard_filename(person_id: str) -> str:
    """The file name of a person's signboard: the id itself only when it is a plain name.

    A person id comes from a staff file, so it is never trusted as a path: anything but
    letters, digits, ``_``, ``-`` and Chinese characters (``../x``, ``/etc/x``, a NUL, a
    very long id) is replaced, and a short hash of the id keeps two such ids apart.
    """
    pid = str(person_id)
    if _SAFE_STEM.fullmatch(pid):
        return f"{pid}.html"
    stem = re.sub(r"[^A-Za-z0-9_\-\u4e00-\u9fff]+", "_", pid).strip("_")[:40] or "person"
    digest = hashlib.sha256(pid.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{stem}-{digest}.html"


def write_signboards(
    summary: pd.DataFrame,
    staff: pd.DataFrame,
    out_dir: str | Path,
    *,
    people: Sequence[Person] = (),
) -> list[Path]:
    """Write ``<person_id>.html`` per person in ``summary`` into ``out_dir``.

    ``people`` (the store's staff) give the name, phone and department of everyone they
    know; the others keep what ``staff`` says (the bare id when it has no name).

    Every page is rendered before anything is written, so a bad record leaves no half set.
    File names come from :func:`signboard_filename`, so an id never names a path outside
    ``out_dir``.
    """
    staff = with_people(staff, people)
    by_id = {str(r["person_id"]): r for r in staff.to_dict("records")}
    pages: list[tuple[str, str]] = []
    for rec in summary.to_dict("records"):
        pid = str(rec["person_id"])
        person = by_id.get(pid)
        if person is None:
            raise ValidationError(
                f"person {pid!r} has a district but is not in the staff table",
                source="staff",
                field="person_id",
                fix="add them to the staff table",
            )
        streets = [s for s in str(rec.get("streets", "")).split("、") if s]
        unnamed = int(rec.get("n_unnamed", 0) or 0)
        pages.append((pid, signboard_html(person, streets, unnamed=unnamed)))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for pid, page in pages:
        p = out / signboard_filename(pid)
        p.write_text(page, encoding="utf-8")
        paths.append(p)
    return paths
