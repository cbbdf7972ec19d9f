"""Photo thumbnails in case popups: what they add to drawing the cases map.

A GeoPackage store with 500 open cases (the app's marker limit) of which ``--photos`` have a
before and an after photo (phone-sized 1600×1200 JPEGs). Baseline: the violations layer
rendered to HTML without thumbnails (what every rerun of a cases map did before). Then the
thumbnails read and re-encoded the first time (cold), again from the content cache (warm,
what later reruns pay), and the layer rendered with them.

Run: python -m bench.bench_thumbnails [--photos 100] [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from bench.bench_cases import NOW, synthetic_reports  # noqa: E402
from gis.access.users import User  # noqa: E402
from gis.coordination import evidence  # noqa: E402
from gis.localtime import LOCAL_TZ as TZ  # noqa: E402
from gis.store.geopackage import GeoPackageStore  # noqa: E402
from layers.basemap import new_map  # noqa: E402
from layers.violations import violations_layer  # noqa: E402

CASES = 500


def _photo(i: int) -> bytes:
    img = Image.effect_noise((1600, 1200), 40 + i % 50).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _render(frame, thumbs) -> float:
    t0 = time.perf_counter()
    m = new_map()
    violations_layer(frame, thumbs=thumbs).add_to(m)
    html = m.get_root().render()
    assert html
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--photos", type=int, default=100, help="cases with before+after photos")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    user = User("bench", "leadership")
    with tempfile.TemporaryDirectory() as tmp, GeoPackageStore(Path(tmp) / "b.gpkg") as store:
        store.add_reports(synthetic_reports(CASES), received_by="bench", at=NOW)
        ids = [k.case_id for k in store.query_cases(limit=CASES)]
        at = dt.datetime(2026, 6, 1, 12, tzinfo=TZ)
        for i, cid in enumerate(ids[: args.photos]):
            evidence.add_photo(store, cid, _photo(2 * i), user, kind="before", at=at)
            evidence.add_photo(store, cid, _photo(2 * i + 1), user, kind="after", at=at)
        frame = store.cases_frame(open_only=True)
        base = [_render(frame, None) for _ in range(args.runs)]
        evidence.thumbnail_uri.cache_clear()
        t0 = time.perf_counter()
        thumbs = evidence.case_thumbnails(store, frame["case_id"])
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            thumbs = evidence.case_thumbnails(store, frame["case_id"])
            warm.append(time.perf_counter() - t0)
        drawn = [_render(frame, thumbs) for _ in range(args.runs)]
    b, w, d = statistics.median(base), statistics.median(warm), statistics.median(drawn)
    size = sum(len(u) for t in thumbs.values() for u in t.values())
    print(f"{len(frame)} open cases, {len(thumbs)} with photos ({size / 1e3:.0f} kB of data: URIs)")
    print(f"layer without thumbnails (baseline): median {b * 1e3:.0f} ms over {args.runs} runs")
    print(f"thumbnails cold (read + Pillow re-encode): {cold * 1e3:.0f} ms")
    print(f"thumbnails warm (content cache):        median {w * 1e3:.0f} ms")
    print(f"layer with thumbnails:                  median {d * 1e3:.0f} ms")
    print(f"ratio per rerun (warm thumbnails + layer) / baseline: {(w + d) / b:.2f}")
    print(f"ratio first draw (cold thumbnails + layer) / baseline: {(cold + d) / b:.2f}")


if __name__ == "__main__":
    main()
