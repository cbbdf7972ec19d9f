"""The one road from data to a map page: text travels as inert JSON and is shown as text.

Long because: it is the one road from data to a map page; the page script it writes and
the Python that feeds it are reviewed together, since every map text's safety rests on both.

folium/branca render every element's script macro and then parse the result a second time
as a Jinja2 template (``branca.element.MacroElement.render`` wraps it in ``Element(...)``,
whose constructor compiles it). Text placed in a script by folium's own widgets therefore
runs on the server when it holds ``{{ … }}`` or ``{% … %}``, and folium's tooltips put it
into a JavaScript template literal, where a backtick or ``${`` runs in the browser.

So no data text is handed to a folium widget here. Every layer that shows text builds a
GeoJSON FeatureCollection whose properties hold the text, serialised by :func:`script_json`
(no ``{``, ``}``, ``<``, ``>``, ``&``, quotes, backticks or ``$`` inside strings, so the
second Jinja pass and the HTML parser see nothing to act on), and the page script
(:data:`PAGE_JS`) turns it into tooltips, popups, labels and legends with ``textContent``,
never ``innerHTML``. The few folium slots that take a string (layer names in the layer
control) get :func:`inert`, which is safe in HTML, in a JavaScript template literal, in a
JSON string and under Jinja at once.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import shapely
from branca.element import Element, MacroElement, Template

#: What :func:`inert` replaces, and by what (HTML character references).
_INERT = {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord('"'): "&quot;",
    ord("'"): "&#39;",
    ord("{"): "&#123;",
    ord("}"): "&#125;",
    ord("`"): "&#96;",
    ord("$"): "&#36;",
    ord("\\"): "&#92;",
    ord("%"): "&#37;",
    0x2028: "&#8232;",
    0x2029: "&#8233;",
}
#: C0 controls (except tab and newline) and DEL: dropped from every text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: In a JSON string: the characters that mean something to Jinja, HTML, JS or the shell.
_JSON_STRING_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "{": "\\u007b",
    "}": "\\u007d",
    "`": "\\u0060",
    "$": "\\u0024",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_STRING_RE = re.compile("[" + re.escape("".join(_JSON_STRING_ESCAPES)) + "]")
_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}")
#: Longest text a tooltip, label or legend line carries (the rest becomes "…").
MAX_TEXT = 400


def clean_text(value: object, *, limit: int = MAX_TEXT) -> str:
    """A display string from any value: None/NaN → "", controls dropped, cut at ``limit``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = _CONTROL.sub("", str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def inert(value: object, *, limit: int = MAX_TEXT) -> str:
    """Text that shows literally in HTML and means nothing to Jinja or a JS template literal.

    Every character that starts markup (``<``, ``&``, quotes), a Jinja tag (``{``, ``%``),
    a template-literal substitution or its end (``$``, backtick, backslash) becomes an HTML
    character reference, so the browser shows it as typed wherever the text is parsed as
    HTML (Leaflet's layer control, tooltips). Use it only for such HTML slots; data for the
    page script goes through :func:`script_json`.
    """
    return clean_text(value, limit=limit).translate(_INERT)


def _encode(obj: Any) -> str:
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, int):
        return str(int(obj))
    if isinstance(obj, float):
        return json.dumps(obj) if math.isfinite(obj) else "null"
    if isinstance(obj, str):
        s = json.dumps(_CONTROL.sub("", obj), ensure_ascii=True)
        return _JSON_STRING_RE.sub(lambda m: _JSON_STRING_ESCAPES[m.group()], s)
    if isinstance(obj, Mapping):
        return "{" + ",".join(f"{_encode(str(k))}:{_encode(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(_encode(v) for v in obj) + "]"
    if hasattr(obj, "item"):  # numpy scalars
        return _encode(obj.item())
    return _encode(str(obj))


_GLOBAL_ESCAPES = str.maketrans(
    {c: v for c, v in _JSON_STRING_ESCAPES.items() if c not in "{}\u2028\u2029"}
)
_STRING_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"')


def _braces(m: re.Match[str]) -> str:
    return m.group().replace("{", "\\u007b").replace("}", "\\u007d")


def _default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    return str(obj)


def script_json(obj: Any) -> str:
    """JSON to paste into a ``<script>``: inert under Jinja, HTML and JS alike.

    Inside strings every ``{ } < > & ' ` $`` is a ``\\uXXXX`` escape, so the output never
    holds ``{{``, ``{%``, ``{#`` (JSON's own braces are always followed by ``"`` or ``}``),
    ``</script>`` or a template-literal substitution. NaN and infinities become null.
    """
    try:
        out = json.dumps(
            obj, ensure_ascii=True, allow_nan=False, default=_default, separators=(",", ":")
        )
    except ValueError:  # NaN or infinity somewhere: the careful encoder writes null
        out = _encode(obj)
    else:
        # outside strings JSON has none of < > & ' ` $; inside, braces are escaped too
        out = _STRING_TOKEN.sub(_braces, out.translate(_GLOBAL_ESCAPES))
    if "{{" in out or "{%" in out or "{#" in out or "</" in out:
        raise ValueError("script_json produced text a template engine would act on")
    return out


#: A thumbnail data: URI as :func:`gis.coordination.evidence.thumbnail_uri` writes it.
_IMAGE_URI = re.compile(r"data:(image/(?:jpeg|png));base64,([A-Za-z0-9+/]+={0,2})")
#: What the decoded bytes of each accepted MIME type start with.
_IMAGE_MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
#: Longest image data: URI a popup takes (a 160 px JPEG thumbnail is 5–15 kB).
MAX_IMAGE_URI = 96_000


def image_src(value: object) -> str | None:
    """``value`` when it is a small JPEG/PNG ``data:`` URI whose bytes are that image, else None.

    The only image source that reaches a map page: no URL (nothing fetched, no
    ``javascript:``), no SVG or HTML (``data:image/svg+xml``, ``data:text/html``), no
    base64 whose bytes do not start as the named type. Build it with
    :func:`gis.coordination.evidence.thumbnail_uri`, which re-encodes validated pixels;
    the page script checks the form again before setting an ``<img>``'s ``src``.
    """
    if not isinstance(value, str) or len(value) > MAX_IMAGE_URI:
        return None
    m = _IMAGE_URI.fullmatch(value)
    if m is None or len(m.group(2)) % 4:
        return None
    try:
        head = base64.b64decode(m.group(2)[:64], validate=True)
    except (binascii.Error, ValueError):
        return None
    return value if head.startswith(_IMAGE_MAGIC[m.group(1)]) else None


def safe_colour(value: object, default: str = "#777777") -> str:
    """A CSS hex colour, or ``default`` when the value is anything else."""
    s = str(value or "")
    return s if _COLOUR.fullmatch(s) else default


class RawHtml(Element):
    """A fixed piece of page (our own script or style): written as is, never templated."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self._text = text

    def render(self, **kwargs: object) -> str:
        """The text itself (branca's Element would compile it as a Jinja template)."""
        return self._text


#: The page script: builds tooltips, labels, legends and notices from JSON with textContent.
PAGE_JS = r"""
(function () {
  if (window.PatrolMap) { return; }
  var P = {};
  var css = document.createElement('style');
  css.textContent = PAGE_CSS_JSON;
  document.head.appendChild(css);
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function has(v) { return v !== undefined && v !== null && v !== ''; }
  P.el = el;
  P.box = function (p, spec) {
    var d = el('div', 'pm-tip');
    if (spec.title && has(p[spec.title])) { d.appendChild(el('div', 'pm-title', p[spec.title])); }
    (spec.rows || []).forEach(function (r) {
      if (!has(p[r[1]])) { return; }
      var row = el('div', 'pm-row');
      if (r[0]) { row.appendChild(el('span', 'pm-key', r[0])); }
      row.appendChild(el('span', 'pm-val', p[r[1]]));
      d.appendChild(row);
    });
    var small = (spec.small || []).map(function (k) { return p[k]; }).filter(has);
    if (small.length) { d.appendChild(el('div', 'pm-small', small.join(' · '))); }
    var pics = (spec.images || []).filter(function (r) { return P.imageSrc(p[r[1]]); });
    if (pics.length) {
      var strip = el('div', 'pm-photos');
      pics.forEach(function (r) {
        var fig = el('figure', 'pm-photo');
        var img = document.createElement('img');
        img.alt = String(r[0]);
        img.src = p[r[1]];
        fig.appendChild(img);
        fig.appendChild(el('figcaption', null, r[0]));
        strip.appendChild(fig);
      });
      d.appendChild(strip);
    }
    return d;
  };
  // a thumbnail is a small JPEG/PNG data: URI (layers.safe.image_src), nothing else
  P.imageSrc = function (v) {
    return typeof v === 'string' && v.length <= IMAGE_URI_MAX &&
      /^data:image\/(jpeg|png);base64,[A-Za-z0-9+\/]+={0,2}$/.test(v);
  };
  function icon(s, label) {
    var inner = el('span', 'pm-in', label);
    if (has(s.rotate)) { inner.style.transform = 'translate(-50%,-50%) rotate(' + Number(s.rotate) + 'deg)'; }
    if (has(s.colour)) { inner.style.setProperty('--pm-c', s.colour); }
    var cls = 'pm-' + s.shape + (has(s.cls) ? ' pm-l-' + s.cls : '');
    return L.divIcon({className: cls, html: inner, iconSize: null});
  }
  P.point = function (f, ll) {
    var s = f.properties._s || {};
    if (s.shape === 'label') {
      var m = L.marker(ll, {icon: icon(s, f.properties._label), interactive: false, keyboard: false});
      m._pmPrio = Number(s.prio || 0);
      m._pmMinZoom = Number(s.minzoom || 0);
      return m;
    }
    if (s.shape === 'poi' || s.shape === 'stop' || s.shape === 'arrow') {
      var text = s.shape === 'arrow' ? '\u27a4' : f.properties._label;
      return L.marker(ll, {icon: icon(s, text), keyboard: false, interactive: s.shape !== 'arrow'});
    }
    return L.circleMarker(ll, s);
  };
  function shows(p, spec) {
    if (spec.title && has(p[spec.title])) { return true; }
    return (spec.rows || []).some(function (r) { return has(p[r[1]]); });
  }
  P.layer = function (data, spec, parent) {
    var lay = L.geoJSON(data, {
      style: function (f) { return f.properties._s || {}; },
      pointToLayer: P.point,
      onEachFeature: function (f, l) {
        if (spec.tip && shows(f.properties, spec.tip)) {
          l.bindTooltip(function () { return P.box(f.properties, spec.tip); },
                        {sticky: !!spec.sticky, direction: 'top', className: 'pm-tooltip'});
        }
        if (spec.popup && shows(f.properties, spec.popup)) {
          l.bindPopup(function () { return P.box(f.properties, spec.popup); }, {maxWidth: 360});
        }
      }
    });
    if (spec.labels) {
      lay.on('add', function () { if (lay._map) { P.watch(lay._map); } });
    }
    lay.addTo(parent);
    if (spec.labels && parent._map) { P.watch(parent._map); }
    return lay;
  };
  function declutter(map) {
    var z = map.getZoom();
    var ms = [];
    map.eachLayer(function (l) { if (l._pmPrio !== undefined && l._icon) { ms.push(l); } });
    ms.sort(function (a, b) { return b._pmPrio - a._pmPrio; });
    var boxes = [];
    ms.forEach(function (m) {
      var e = m._icon;
      if (z < m._pmMinZoom) { e.style.visibility = 'hidden'; return; }
      e.style.visibility = 'visible';
      var r = e.firstChild ? e.firstChild.getBoundingClientRect() : e.getBoundingClientRect();
      var hit = boxes.some(function (b) {
        return r.left < b.right + 2 && r.right + 2 > b.left && r.top < b.bottom + 1 && r.bottom + 1 > b.top;
      });
      if (hit) { e.style.visibility = 'hidden'; } else { boxes.push(r); }
    });
  }
  P.declutter = declutter;
  P.watch = function (map) {
    if (map._pmWatched) { declutter(map); return; }
    map._pmWatched = true;
    var t = null;
    var later = function () { if (t) { clearTimeout(t); } t = setTimeout(function () { declutter(map); }, 30); };
    map.on('zoomend moveend overlayadd overlayremove layeradd resize', later);
    later();
  };
  function swatch(colour, shape) {
    var s = el('span', 'pm-sw pm-sw-' + (shape || 'square'));
    s.style.setProperty('--pm-c', colour);
    return s;
  }
  P.legend = function (target, spec) {
    var c = L.control({position: spec.position || 'bottomright'});
    c.onAdd = function (map) {
      var div = el('div', 'pm-legend');
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      var body = el('div', 'pm-legend-body');
      if (has(spec.title)) {
        var head = el('div', 'pm-legend-title', spec.title);
        head.setAttribute('role', 'button');
        head.setAttribute('tabindex', '0');
        var toggle = function () {
          var open = body.style.display === 'none';
          body.style.display = open ? '' : 'none';
          head.setAttribute('aria-expanded', open ? 'true' : 'false');
        };
        L.DomEvent.on(head, 'click', toggle);
        L.DomEvent.on(head, 'keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { toggle(); } });
        div.appendChild(head);
      }
      (spec.sections || []).forEach(function (sec) {
        if (has(sec.title)) { body.appendChild(el('div', 'pm-legend-sub', sec.title)); }
        (sec.items || []).forEach(function (it) {
          var row = el('div', 'pm-legend-row');
          row.appendChild(swatch(it[0], it[2] || sec.shape));
          row.appendChild(el('span', null, it[1]));
          if (has(it[3])) { row.appendChild(el('span', 'pm-small', ' ' + it[3])); }
          body.appendChild(row);
        });
      });
      div.appendChild(body);
      // folded when asked, or on a phone-sized map: its title opens it
      var narrow = spec.folded || (map && map.getSize().x < 520);
      if (narrow && has(spec.title)) { body.style.display = 'none'; }
      if (div.firstChild && div.firstChild.setAttribute) {
        div.firstChild.setAttribute('aria-expanded', narrow ? 'false' : 'true');
      }
      return div;
    };
    if (target instanceof L.Map) { c.addTo(target); return c; }
    var on = function () { if (target._map && !c._map) { c.addTo(target._map); } };
    target.on('add', on);
    target.on('remove', function () { if (c._map) { c.remove(); } });
    on();
    return c;
  };
  P.notice = function (map, text, kind) {
    if (map._pmNotice) { map._pmNotice.firstChild.textContent = text; return; }
    var c = L.control({position: 'topleft'});
    c.onAdd = function () {
      var div = el('div', 'pm-notice pm-notice-' + (kind || 'info'));
      div.setAttribute('role', 'status');
      div.appendChild(el('span', null, text));
      return div;
    };
    c.addTo(map);
    map._pmNotice = c.getContainer();
  };
  P.tileFallback = function (map, tiles, text, waitMs) {
    var errors = 0, loads = 0, done = false;
    function fall() {
      if (done || loads > 0) { return; }
      done = true;
      tiles.forEach(function (t) { if (map.hasLayer(t)) { map.removeLayer(t); } });
      map.getContainer().style.background = '#f4f1ea';
      P.notice(map, text, 'warn');
    }
    tiles.forEach(function (t) {
      t.on('tileload', function () { loads += 1; });
      t.on('tileerror', function () { errors += 1; if (errors >= 2) { fall(); } });
    });
    setTimeout(fall, waitMs);
  };
  window.PatrolMap = P;
})();
"""

#: Styles of the page script's tooltips, labels, markers, legends and notices.
PAGE_CSS = """
.leaflet-container { background: #f4f1ea; font-family: "Noto Sans CJK SC", "Noto Sans SC",
  "Microsoft YaHei", "PingFang SC", sans-serif; }
.pm-tip { font: 13px/1.45 "Noto Sans CJK SC", "Noto Sans SC", sans-serif; width: max-content;
  max-width: 22em; white-space: normal; overflow-wrap: anywhere; }
.pm-title { font-weight: bold; font-size: 14px; }
.pm-key { color: #666; margin-right: 0.4em; }
.pm-small { color: #888; font-size: 11px; }
.pm-label, .pm-poi, .pm-stop, .pm-arrow { background: none; border: none; }
.pm-label .pm-in { position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  pointer-events: none; font: 12px/1.2 "Noto Sans CJK SC", "Noto Sans SC", sans-serif;
  color: var(--pm-c, #333); text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; }
.pm-label.pm-l-lake .pm-in { font-size: 16px; font-weight: bold; letter-spacing: 0.3em; }
.pm-label.pm-l-lake-en .pm-in { font-size: 15px; font-weight: bold; font-style: italic; }
.pm-label.pm-l-street .pm-in { font-size: 13px; font-weight: bold; letter-spacing: 0.1em; }
.pm-label.pm-l-zone .pm-in { font-size: 12px; font-style: italic; }
.pm-label.pm-l-zone-hl .pm-in { font-size: 14px; font-weight: bold; }
.pm-label.pm-l-poi .pm-in { transform: translate(9px, -50%); font-size: 12px; font-weight: bold; }
.pm-label.pm-l-hutong .pm-in { font-size: 11px; }
.pm-poi .pm-in { position: absolute; left: -6px; top: -6px; width: 10px; height: 10px;
  background: var(--pm-c, #333); border: 1.5px solid #fff; transform: rotate(45deg);
  box-shadow: 0 0 0 1px #333; }
.pm-stop .pm-in { position: absolute; left: -11px; top: -11px; width: 18px; height: 18px;
  border-radius: 50%; background: #fff; border: 2px solid var(--pm-c, #c0392b);
  font: bold 11px/18px sans-serif; text-align: center; color: #222; }
.pm-arrow .pm-in { position: absolute; left: -7px; top: -7px; width: 14px; height: 14px;
  font-size: 14px; line-height: 14px; text-align: center; color: var(--pm-c, #c0392b); }
.pm-legend { background: rgba(255,255,255,0.94); padding: 6px 9px; border-radius: 4px;
  font: 12px/1.5 "Noto Sans CJK SC", "Noto Sans SC", sans-serif; max-height: 45vh;
  overflow-y: auto; box-shadow: 0 1px 4px rgba(0,0,0,0.3); max-width: 18em; }
.pm-legend-title { font-weight: bold; font-size: 13px; cursor: pointer; }
.pm-legend-title::after { content: ' ▾'; color: #888; }
.pm-legend-sub { font-weight: bold; color: #555; margin-top: 4px; }
.pm-sw { display: inline-block; width: 11px; height: 11px; margin-right: 5px;
  vertical-align: -1px; background: var(--pm-c, #777); border: 1px solid #444; }
.pm-sw-circle { border-radius: 50%; }
.pm-sw-ring { border-radius: 50%; background: #fff; border: 2px solid var(--pm-c, #777);
  width: 8px; height: 8px; }
.pm-sw-dashed { border-radius: 50%; border: 1.5px dashed #222; }
.pm-sw-diamond { transform: rotate(45deg) scale(0.8); border-color: #fff;
  box-shadow: 0 0 0 1px #333; }
.pm-sw-line { height: 4px; vertical-align: 3px; border: none; width: 16px; }
.pm-photos { display: flex; gap: 6px; margin-top: 4px; }
.pm-photo { margin: 0; text-align: center; font-size: 11px; color: #666; }
.pm-photo img { display: block; max-width: 160px; max-height: 160px; border: 1px solid #ccc; }
.pm-notice { background: #fff8e1; border: 1px solid #e0a800; color: #5c4400; padding: 6px 10px;
  border-radius: 4px; font: 13px/1.4 "Noto Sans CJK SC", "Noto Sans SC", sans-serif;
  max-width: 24em; box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
"""


#: The page script with its stylesheet: it must be inert under Jinja (it is a script macro).
PAGE_SCRIPT = PAGE_JS.replace("PAGE_CSS_JSON", script_json(PAGE_CSS)).replace(
    "IMAGE_URI_MAX", str(MAX_IMAGE_URI)
)
assert re.search(r"\{[{%#]", PAGE_SCRIPT) is None and "</" not in PAGE_SCRIPT


class PageScript(MacroElement):
    """The page script as the map's first child (:class:`layers.basemap.OfflineMap` adds it).

    It is a script, not a header element, because streamlit-folium inserts the header with
    ``innerHTML``, where scripts never run.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.js }}
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "PatrolPageScript"
        self.js = PAGE_SCRIPT


def _boot(element: Element) -> str:
    """The page script, when the element's map does not already carry it."""
    m = _map_of(element)
    if m is not None and any(isinstance(c, PageScript) for c in m._children.values()):
        return ""
    return PAGE_SCRIPT


def _map_of(element: Element) -> folium.Map | None:
    node: Element | None = element
    while node is not None and not isinstance(node, folium.Map):
        node = node._parent
    return node


@dataclass(frozen=True)
class PreparedData:
    """A layer's features and display spec, already serialised by :func:`script_json`.

    Immutable, so a page may cache it per process and add it to a new map on every run
    (:meth:`DataLayer.from_prepared`) without building or serialising the features again.
    ``collection`` is the GeoJSON it was made from (read it, never change it).
    """

    collection: Mapping[str, Any]
    data_json: str
    spec_json: str
    bounds: tuple[float, float, float, float] | None  # south, west, north, east


def _bounds_of(collection: Mapping[str, Any]) -> tuple[float, float, float, float] | None:
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        elif isinstance(c, (list, tuple)):
            for x in c:
                walk(x)

    for f in collection.get("features", []):
        walk((f.get("geometry") or {}).get("coordinates", []))
    if not xs:
        return None
    return min(ys), min(xs), max(ys), max(xs)


def prepare_data(
    collection: Mapping[str, Any],
    *,
    tip: Mapping[str, Any] | None = None,
    popup: Mapping[str, Any] | None = None,
    labels: bool = False,
    sticky: bool = False,
) -> PreparedData:
    """Serialise a layer once (see :class:`DataLayer` for the parameters)."""
    return PreparedData(
        collection=collection,
        data_json=script_json(collection),
        spec_json=script_json({"tip": tip, "popup": popup, "labels": labels, "sticky": sticky}),
        bounds=_bounds_of(collection),
    )


class DataLayer(MacroElement):
    """Features with text: GeoJSON + a display spec, drawn by the page script.

    Parameters
    ----------
    collection
        A GeoJSON FeatureCollection (WGS 84). ``properties._s`` is the Leaflet style of a
        feature (for points also ``shape``: ``circle``, ``poi``, ``label``, ``stop``,
        ``arrow``); ``properties._label`` the text of a label/stop.
    tip, popup
        ``{"title": key, "rows": [[label, key], ...], "small": [key, ...]}``: which
        properties a tooltip / popup shows, under which (already translated) labels;
        ``"images": [[label, key], ...]`` adds thumbnails side by side, from properties
        that hold an :func:`image_src` data: URI (anything else is not shown).
    labels
        The layer holds labels: hide those that collide or are below their zoom.

    The script is written as plain text, not through branca's second Jinja pass (which
    would compile hundreds of kilobytes of JSON as a template on every run): the JSON from
    :func:`script_json` needs no templating and is inert anyway.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.boot }}
        window.PatrolMap.layer({{ this.data_json }}, {{ this.spec_json }},
                               {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        collection: Mapping[str, Any],
        *,
        tip: Mapping[str, Any] | None = None,
        popup: Mapping[str, Any] | None = None,
        labels: bool = False,
        sticky: bool = False,
    ) -> None:
        self._init(prepare_data(collection, tip=tip, popup=popup, labels=labels, sticky=sticky))

    @classmethod
    def from_prepared(cls, prepared: PreparedData) -> DataLayer:
        """A layer from :func:`prepare_data` output (cached by the caller)."""
        layer = cls.__new__(cls)
        layer._init(prepared)
        return layer

    def _init(self, prepared: PreparedData) -> None:
        MacroElement.__init__(self)
        self._name = "DataLayer"
        self.boot = PAGE_SCRIPT
        self.prepared = prepared
        self.collection = prepared.collection
        self.data_json = prepared.data_json
        self.spec_json = prepared.spec_json

    def _script(self) -> str:
        parent = self._parent.get_name() if self._parent is not None else "null"
        return f"{self.boot}\nwindow.PatrolMap.layer({self.data_json}, {self.spec_json}, {parent});"

    def render(self, **kwargs: object) -> str:  # type: ignore[override]
        """Add the script to the page, with the page script in front when the map does not
        carry it."""
        self.boot = _boot(self)
        figure = self.get_root()
        figure.script.add_child(RawHtml(self._script()), name=self.get_name())  # type: ignore[attr-defined]
        return ""

    def _get_self_bounds(self) -> list[list[float | None]]:
        b = self.prepared.bounds
        if b is None:
            return [[None, None], [None, None]]
        return [[b[0], b[1]], [b[2], b[3]]]


class PageCall(MacroElement):
    """A call of one page-script function on the map with JSON arguments."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.boot }}
        window.PatrolMap.{{ this.function }}({{ this._parent.get_name() }}{{ this.args }});
        {% endmacro %}
        """
    )

    _FUNCTIONS = frozenset({"legend", "notice"})

    def __init__(self, function: str, *args: Any) -> None:
        super().__init__()
        if function not in self._FUNCTIONS:
            raise ValueError(f"unknown page function {function!r}")
        self._name = "PageCall"
        self.boot = PAGE_SCRIPT
        self.function = function
        self.args = "".join("," + script_json(a) for a in args)

    def render(self, **kwargs: object) -> str:  # type: ignore[override]
        """Render, with the page script in front when the map does not carry it."""
        self.boot = _boot(self)
        return super().render(**kwargs)  # type: ignore[func-returns-value]


class TileFallback(MacroElement):
    """If the tile basemap cannot load, remove it and say so on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.boot }}
        window.PatrolMap.tileFallback({{ this._parent.get_name() }},
            [{% for t in this.tiles %}{{ t.get_name() }}{% if not loop.last %},{% endif %}{% endfor %}],
            {{ this.text_json }}, {{ this.wait_ms }});
        {% endmacro %}
        """
    )

    def __init__(self, tiles: Sequence[folium.TileLayer], text: str, wait_ms: int = 8000) -> None:
        super().__init__()
        self._name = "TileFallback"
        self.boot = PAGE_SCRIPT
        self.tiles = list(tiles)
        self.text_json = script_json(text)
        self.wait_ms = int(wait_ms)

    def render(self, **kwargs: object) -> str:  # type: ignore[override]
        """Render, with the page script in front when the map does not carry it."""
        self.boot = _boot(self)
        return super().render(**kwargs)  # type: ignore[func-returns-value]


class MetricScale(MacroElement):
    """The map's scale bar in metres only (folium's ``control_scale`` adds feet and miles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 120}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


#: Decimal places kept in display coordinates (WGS 84 degrees): 1e-7° is about 1 cm, far
#: below what a map shows, and halves the page's map script against full doubles.
COORD_DECIMALS = 7


def feature(geometry: Any, properties: Mapping[str, Any]) -> dict[str, Any]:
    """One GeoJSON feature from a shapely geometry (WGS 84) and its properties."""
    if geometry is not None:
        geometry = shapely.transform(geometry, lambda xy: xy.round(COORD_DECIMALS))
    return {
        "type": "Feature",
        "geometry": geometry.__geo_interface__ if geometry is not None else None,
        "properties": dict(properties),
    }


def collection(features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the given features."""
    return {"type": "FeatureCollection", "features": list(features)}


def feature_group(name: str, *, show: bool = True) -> folium.FeatureGroup:
    """A FeatureGroup whose (possibly user-given) name is safe in the layer control."""
    return folium.FeatureGroup(name=inert(name, limit=80), show=show)
