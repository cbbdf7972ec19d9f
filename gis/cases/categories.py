"""The reference tables: the 29 problem categories and the 23 member departments."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gis.cases.workflow import TIERS
from gis.errors import NotFoundError, ValidationError
from gis.settings import BUNDLED_DATA_DIR


@dataclass(frozen=True)
class Department:
    """A member department (成员单位)."""

    code: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    """One of the 29 problem categories: who leads, who helps, how long to fix."""

    code: str
    name_zh: str
    name_en: str
    default_tier: str
    lead_dept: str
    participating: tuple[str, ...]
    deadline_hours: float
    attributes: Mapping[str, str]  # attribute name -> "int" | "float"


@dataclass(frozen=True)
class References:
    """Categories and departments, validated against each other."""

    categories: Mapping[str, Category]
    departments: Mapping[str, Department]

    def category(self, value: str, *, source: str | None = None, row: object = None) -> Category:
        """Find a category by code (``C07``), Chinese or English name."""
        key = str(value).strip()
        if key.upper() in self.categories:
            return self.categories[key.upper()]
        for c in self.categories.values():
            if key in (c.name_zh, c.name_en) or key.lower() == c.name_en.lower():
                return c
        raise ValidationError(
            f"unknown category {value!r}",
            source=source,
            row=row,
            field="category",
            fix="use a code C01–C29 or a Chinese name from data/categories.csv (e.g. C07 噪声扰民)",
        )

    def department(self, value: str) -> Department:
        """Find a department by code, Chinese name or alias (``市场监管`` -> 工商)."""
        key = str(value).strip()
        if key in self.departments:
            return self.departments[key]
        for d in self.departments.values():
            if key in (d.name_zh, d.name_en):
                return d
        for d in self.departments.values():
            if key in d.aliases:
                return d
        raise NotFoundError(
            f"unknown department {value!r}: use a code or name from data/departments.csv"
        )


def _ref_path(data_dir: Path | None, name: str) -> Path:
    for base in (data_dir, BUNDLED_DATA_DIR):
        if base is not None and (Path(base) / name).is_file():
            return Path(base) / name
    raise NotFoundError(f"reference table {name} not found in {data_dir} or the bundled data")


def load_references(data_dir: Path | None = None) -> References:
    """Load and cross-check ``categories.csv`` and ``departments.csv``."""
    return _load_references(
        str(_ref_path(data_dir, "categories.csv")), str(_ref_path(data_dir, "departments.csv"))
    )


@lru_cache(maxsize=4)
def _load_references(cat_path: str, dept_path: str) -> References:
    depts: dict[str, Department] = {}
    with open(dept_path, encoding="utf-8-sig", newline="") as fh:
        for i, rec in enumerate(csv.DictReader(fh), start=2):
            code = (rec.get("code") or "").strip()
            if not code or code in depts:
                raise ValidationError(
                    f"missing or repeated code {code!r}", source=dept_path, row=i, field="code"
                )
            aliases = tuple(a for a in (rec.get("aliases") or "").split(";") if a)
            depts[code] = Department(code, rec["name_zh"], rec["name_en"], aliases)
    cats: dict[str, Category] = {}
    with open(cat_path, encoding="utf-8-sig", newline="") as fh:
        for i, rec in enumerate(csv.DictReader(fh), start=2):
            code = rec["code"].strip()
            if code in cats:
                raise ValidationError(f"repeated code {code}", source=cat_path, row=i)
            if rec["default_tier"] not in TIERS:
                raise ValidationError(
                    f"unknown tier {rec['default_tier']!r}",
                    source=cat_path,
                    row=i,
                    field="default_tier",
                    fix=f"use one of {TIERS}",
                )
            part = tuple(p for p in (rec.get("participating_depts") or "").split(";") if p)
            for d in (rec["lead_dept"], *part):
                if d not in depts:
                    raise ValidationError(
                        f"department {d!r} is not in departments.csv",
                        source=cat_path,
                        row=i,
                        field="lead_dept/participating_depts",
                    )
            attrs: dict[str, str] = {}
            for spec in (rec.get("attributes") or "").split(";"):
                if spec:
                    name, _, kind = spec.partition(":")
                    attrs[name] = kind or "float"
            cats[code] = Category(
                code=code,
                name_zh=rec["name_zh"],
                name_en=rec["name_en"],
                default_tier=rec["default_tier"],
                lead_dept=rec["lead_dept"],
                participating=part,
                deadline_hours=float(rec["deadline_hours"]),
                attributes=attrs,
            )
    return References(categories=cats, departments=depts)
