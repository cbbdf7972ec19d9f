"""Online imports: the offline failure path, and the osmnx path against a local stand-in server."""

from __future__ import annotations

import json
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from shapely.geometry import box, mapping

from gis.errors import OfflineError
from gis.geography.osm_import import import_osm
from gis.geography.osm_online import OnlineOptions, probe_service

SQUARE = box(116.379, 39.929, 116.401, 39.946)


def _overpass_json(osm_file: Path) -> dict:
    """The Overpass JSON answer holding every element of an OSM XML file."""
    elements = []
    for el in ET.parse(osm_file).getroot():
        tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
        item: dict = {"type": el.tag, "id": int(el.get("id"))}
        if el.tag == "node":
            item.update(lat=float(el.get("lat")), lon=float(el.get("lon")))
        elif el.tag == "way":
            item["nodes"] = [int(nd.get("ref")) for nd in el.findall("nd")]
        elif el.tag == "relation":
            item["members"] = [
                {"type": m.get("type"), "ref": int(m.get("ref")), "role": m.get("role")}
                for m in el.findall("member")
            ]
        if tags:
            item["tags"] = tags
        elements.append(item)
    return {"version": 0.6, "elements": elements}


def _nominatim_json() -> list[dict]:
    minx, miny, maxx, maxy = SQUARE.bounds
    return [
        {
            "place_id": 1,
            "osm_type": "relation",
            "osm_id": 13202426,
            "boundingbox": [str(miny), str(maxy), str(minx), str(maxx)],
            "lat": str(SQUARE.centroid.y),
            "lon": str(SQUARE.centroid.x),
            "display_name": "什刹海街道, 西城区, 北京市, 中国",
            "name": "什刹海街道",
            "class": "boundary",
            "type": "administrative",
            "importance": 0.6,
            "geojson": mapping(SQUARE),
        }
    ]


@pytest.fixture
def osm_server(tiny_osm: Path) -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server answering like Nominatim (/search) and Overpass (/interpreter)."""
    overpass = json.dumps(_overpass_json(tiny_osm)).encode()
    nominatim = json.dumps(_nominatim_json()).encode()
    calls: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _send(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            calls.append(self.path.split("?")[0])
            self._send(nominatim if self.path.startswith("/search") else b"{}")

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            calls.append(self.path)
            self._send(overpass)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_place_online_builds_the_same_streets_as_the_file(
    osm_server: tuple[str, list[str]], tiny_osm: Path, tmp_path: Path
) -> None:
    url, calls = osm_server
    online = OnlineOptions(nominatim_url=url + "/", overpass_url=url + "/api")
    got = import_osm("什刹海街道", out_dir=tmp_path / "geo", online=online)
    assert calls == ["/search", "/api/interpreter"]
    from_file = import_osm(tiny_osm, out_dir=None, boundary=SQUARE)
    cols = ["street_id", "name", "name_en", "highway", "kind", "front"]
    assert got.streets[cols].sort_values("street_id").values.tolist() == (
        from_file.streets[cols].sort_values("street_id").values.tolist()
    )
    assert sorted(got.lakes["name"]) == ["前海", "后海"]
    assert sorted(got.pois["poi_id"]) == ["N23", "N24"]
    assert got.boundary["name"].iloc[0] == "什刹海街道"
    assert got.boundary.geometry.iloc[0].equals(SQUARE)
    assert len(got.zones) == len(from_file.zones)


def test_polygon_online(osm_server: tuple[str, list[str]]) -> None:
    url, calls = osm_server
    online = OnlineOptions(nominatim_url=url + "/", overpass_url=url + "/api")
    got = import_osm(
        SQUARE, out_dir=None, online=online, main_street_classes=["secondary"], min_component_m=0
    )
    assert calls == ["/api/interpreter"]
    assert len(got.streets) == 6
    assert got.streets.set_index("street_id").loc["W103", "front"] == "main_streets"


def test_osmnx_settings_and_resolver_are_restored(osm_server: tuple[str, list[str]]) -> None:
    import osmnx as ox

    before = (ox.settings.requests_timeout, ox.settings.overpass_url, ox.settings.use_cache)
    getaddrinfo = socket.getaddrinfo
    url, _calls = osm_server
    import_osm(SQUARE, out_dir=None, online=OnlineOptions(url + "/", url + "/api"))
    assert (ox.settings.requests_timeout, ox.settings.overpass_url, ox.settings.use_cache) == (
        before
    )
    assert socket.getaddrinfo is getaddrinfo


def test_unreachable_service_fails_fast(tmp_path: Path) -> None:
    port = _closed_port()
    online = OnlineOptions(
        nominatim_url=f"http://127.0.0.1:{port}/", overpass_url=f"http://127.0.0.1:{port}/api"
    )
    start = time.monotonic()
    with pytest.raises(OfflineError, match=r"no network: import a \.osm/\.pbf file instead"):
        import_osm("什刹海街道", out_dir=tmp_path / "geo", online=online)
    assert time.monotonic() - start < 5.0
    assert not (tmp_path / "geo").exists()


def test_silent_server_fails_within_five_seconds() -> None:
    """A server that accepts connections but never answers is given up on within 5 s."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel accepts; nobody ever reads or answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(OfflineError, match=r"no network.*ReadTimeout"):
            import_osm("什刹海街道", out_dir=None, online=OnlineOptions(url + "/", url + "/api"))
        assert time.monotonic() - start < 5.0


def test_default_services_offline_fail_within_five_seconds() -> None:
    try:
        socket.create_connection(("nominatim.openstreetmap.org", 443), timeout=2).close()
    except OSError:
        pass
    else:
        pytest.skip("this machine reaches nominatim.openstreetmap.org: not an offline check")
    start = time.monotonic()
    with pytest.raises(OfflineError, match=r"patrol import-osm FILE"):
        import_osm("什刹海街道, 西城区, 北京市", out_dir=None)
    assert time.monotonic() - start < 5.0


def test_probe_gives_up_on_a_hanging_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*_args: object, **_kwargs: object) -> None:
        time.sleep(3)
        raise OSError("resolver gave up")

    monkeypatch.setattr(socket, "create_connection", hang)
    start = time.monotonic()
    with pytest.raises(OfflineError, match=r"no answer within 0\.5 s"):
        probe_service("https://overpass.example.org/api", 0.5)
    assert time.monotonic() - start < 2.0
