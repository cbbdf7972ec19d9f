"""The hostile corpus for entry points: each family of payloads a user or a file can send.

Every family is plain data; the ``test_input_*`` modules feed them through the entry
points (CLI intake and import, workflow steps, app forms, staff tables, user admin) and
check that each is refused with a message or stored as inert text, that no traceback
reaches the user, that no server file is read, and that nothing is half-stored.
"""

from __future__ import annotations

#: Template-engine payloads (Jinja2/branca): stored as text, never evaluated.
TEMPLATE = (
    "{{7*7}}",
    "{{cycler.__init__.__globals__.os.getcwd()}}",
    "{% for x in range(3) %}X{% endfor %}",
    "{{",
    "{%",
    "{#",
    "${7*7}",
    "#{7*7}",
)

#: JavaScript template-literal and HTML payloads: stored as text.
SCRIPT = (
    "`-alert(document.domain)-`",
    "${alert(1)}",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><svg onload=alert(1)>",
)

#: Spreadsheet formulas (CSV injection): escaped in every CSV the system writes.
FORMULA = ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x")')

#: Server paths and URLs that a photo cell might name; only http(s) links are accepted.
#: ``{secret}`` is replaced by the path of a file whose content must never be read.
PATHS = (
    "{secret}",
    "../../../../../../../../{secret}",
    "file://{secret}",
    "/etc/passwd",
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/dev/zero",
    "/proc/self/environ",
    "~/.ssh/id_rsa",
)
#: Photo cells that are fine: recorded (the link as text, never fetched).
PHOTO_LINKS = ("https://example.org/p.jpg", "http://127.0.0.1:1/never-fetched.jpg")

#: Text with NUL and other control bytes (PostgreSQL text cannot hold NUL).
CONTROL = ("a\x00b", "\x00", "line\nbreak", "tab\tinside", "bell\x07")

#: Numbers that overflow, are not finite or are absurdly large.
NUMBERS = ("nan", "inf", "-inf", "1e308", "-1e308", "1e999", "9" * 400)

#: Dates outside anything the system can represent or should accept.
DATES = ("9999-12-31", "0001-01-01", "2262-04-12", "2035-01-01", "1900-01-00", "2026-13-45")

#: Oversized text (characters).
HUGE_TEXT = "长" * 100_000


def deep_json(depth: int = 100_000) -> str:
    """A JSON document nested ``depth`` levels deep (RecursionError bait)."""
    return "[" * depth + "]" * depth


#: Malformed or hostile GeoJSON geometries, each a ``geometry`` member of one feature.
GEOMETRIES = (
    {"type": "Point", "coordinates": []},
    {"type": "Point", "coordinates": [None, None]},
    {"type": "Point", "coordinates": ["nan", "nan"]},
    {"type": "Point", "coordinates": [1e308, 1e308]},
    {"type": "Point"},
    {"type": "Polygon", "coordinates": []},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]},
    {"type": "LineString", "coordinates": [[116.38, 39.935], [116.381, 39.936]]},
    {"type": "GeometryCollection", "geometries": []},
    {"type": "Nope", "coordinates": [1, 2]},
    None,
    "POINT (116.38 39.935)",
    [116.38, 39.935],
)


def bowtie(lon: float, lat: float, d: float = 0.0003) -> dict:
    """A self-intersecting ("bow-tie") polygon around a point: not a valid footprint."""
    ring = [
        [lon - d, lat - d],
        [lon + d, lat + d],
        [lon + d, lat - d],
        [lon - d, lat + d],
        [lon - d, lat - d],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


#: Every text payload that must be stored verbatim (never evaluated) when it is otherwise
#: valid input, e.g. as a description.
INERT_TEXT = TEMPLATE + SCRIPT + FORMULA
