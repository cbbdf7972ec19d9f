"""``patrol districts``: split the area into one contiguous, balanced district per person."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from gis.errors import ValidationError
from gis.settings import Settings

if TYPE_CHECKING:  # library modules load in the handler: `patrol districts --help` stays fast
    import pandas as pd


def _people(args: argparse.Namespace, settings: Settings) -> pd.DataFrame:
    import pandas as pd

    from gis.people.staff_table import demo_staff_path, load_staff, resident_officers

    path = Path(args.staff) if args.staff else demo_staff_path(settings.data_dir)
    if path.exists():
        staff = load_staff(path)
        pool = resident_officers(staff) if not args.all_staff else staff
        if args.people > len(pool):
            raise ValidationError(
                f"--people {args.people} but the staff table has only {len(pool)} "
                + ("people" if args.all_staff else "resident duty officers"),
                source=path.name,
                fix="ask for fewer people, pass --all-staff or add people to the table",
            )
        return pool.head(args.people).reset_index(drop=True)
    if args.staff:
        raise ValidationError("staff file does not exist", source=str(path))
    ids = [f"P{i + 1:02d}" for i in range(args.people)]
    return pd.DataFrame({"person_id": ids, "name": ids, "phone": "", "department": ""})


def _cmd_districts(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from gis.geography.layers import load_geography
    from gis.people.service import staff_of_store
    from gis.planning.district_outputs import cut_length, district_polygons, person_summary
    from gis.planning.partition import districts_for_people
    from gis.planning.signboards import write_signboards
    from gis.planning.workload import WorkloadParams, describe_formula
    from gis.services.subdistricts import settings_geography

    if args.people <= 0:
        raise ValidationError(
            f"--people {args.people}: at least one person is needed",
            field="--people",
            fix="ask for 1 or more people",
        )
    steps = tqdm(total=4, desc="districts", unit="step", disable=args.quiet)
    geo = load_geography(args.data) if args.data else settings_geography(settings)
    staff = _people(args, settings)
    steps.update()
    params = WorkloadParams(walk_speed_kmh=settings.walk_speed_kmh)
    cases = None
    if args.cases:
        from gis.geography.crs import to_metric
        from gis.store import open_store

        with open_store(settings) as store:
            cases = to_metric(store.cases_frame(), crs=geo.crs, source="case store")
        if cases.empty:
            cases = None
    plan = districts_for_people(
        geo.segments,
        staff,
        workload=params,
        cases=cases,
        allow_front_crossing=args.allow_front_crossing,
        front=args.front,
        zones=args.zones,
        seed=args.seed,
    )
    steps.update()
    polygons = district_polygons(
        geo.segments, plan.assignment, boundary=geo.boundary, lakes=geo.lakes
    )
    steps.update()
    summary = person_summary(
        geo.segments,
        plan.assignment,
        plan.workload,
        staff=staff,
        cases=cases,
        polygons=polygons,
        diameters=plan.diagnostics.diameter_m,
    )
    steps.update()
    steps.close()
    # Everything is computed; write all outputs into a scratch folder, then move them in.
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        staged: list[tuple[Path, Path]] = []
        segs = geo.segments[geo.segments["segment_id"].isin(set(plan.assignment))].copy()
        segs["person_id"] = segs["segment_id"].map(plan.assignment)
        segs["workload"] = segs["segment_id"].map(plan.workload)
        layer = polygons.merge(
            summary.drop(columns=["polsby_popper"], errors="ignore"), on="person_id"
        )
        if args.gpkg:
            out = tmp / "out.gpkg"
            segs.to_file(out, layer="district_segments", driver="GPKG")
            layer.to_file(out, layer="districts", driver="GPKG")
            staged.append((out, Path(args.gpkg)))
        if args.geojson:
            out = tmp / "out.geojson"
            layer.to_crs("EPSG:4326").to_file(out, driver="GeoJSON")
            staged.append((out, Path(args.geojson)))
        if args.signboards:
            boards = tmp / "boards"
            write_signboards(summary, staff, boards, people=staff_of_store(settings))
            staged.append((boards, Path(args.signboards)))
        for src, dst in staged:
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                dst.mkdir(parents=True, exist_ok=True)
                for f in sorted(src.iterdir()):
                    shutil.move(str(f), dst / f.name)
            else:
                shutil.move(str(src), dst)
    d = plan.diagnostics
    print(describe_formula(params, settings.language))
    cols = [
        c
        for c in ("person_id", "name", "n_segments", "length_m", "workload", "open_cases")
        if c in summary
    ]
    view = summary[cols + ["polsby_popper", "diameter_m"]].copy()
    print(view.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    if len(d.groups) > 1:
        print(
            f"fronts respected: {len(d.groups)} pieces, people per piece "
            + ", ".join(f"{first}…: {n}" for first, n in d.groups)
            + f"; max/min within a piece {d.piece_ratio:.3f} "
            "(whole people per front set the overall figure; --allow-front-crossing to mix)"
        )
    print(
        f"people {len(plan.people)}  max/min workload {d.ratio:.3f}  "
        f"contiguous {sum(d.contiguous.values())}/{len(d.contiguous)}  "
        f"cut length {cut_length(polygons):.0f} m"
    )
    for _src, dst in staged:
        print(f"wrote {dst}")
    if args.save:
        from gis.services import save_districts
        from gis.store import open_store

        with open_store(settings) as store:
            save_districts(store, plan.assignment)
        print(f"saved the districts of {len(plan.assignment)} segments with the case store")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``patrol districts``."""
    p = sub.add_parser(
        "districts", help="split the streets into one contiguous, balanced district per person"
    )
    p.add_argument("--people", type=int, required=True, help="number of responsible people")
    p.add_argument("--front", help="only this front (scenic, main_streets, gulou_west)")
    p.add_argument("--zones", nargs="+", help="only these zone ids")
    p.add_argument(
        "--allow-front-crossing",
        action="store_true",
        help="let a district span fronts (default: each front is split separately)",
    )
    p.add_argument("--staff", help="staff CSV (default: the bundled demo staff)")
    p.add_argument(
        "--all-staff", action="store_true", help="use all staff, not only resident officers"
    )
    p.add_argument("--data", help="geography folder (default: the bundled Shichahai data)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--cases",
        action="store_true",
        help="weigh segments by the case history in the case store (PATROL_DATABASE_URL) "
        "and count open cases per person",
    )
    p.add_argument("--gpkg", help="write district_segments and districts layers here")
    p.add_argument("--geojson", help="write district polygons (WGS 84) here")
    p.add_argument("--signboards", help="write one 街巷长 signboard HTML per person here")
    p.add_argument(
        "--save",
        action="store_true",
        help="save the districts with the case store: reports then get their responsible person",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_districts)
