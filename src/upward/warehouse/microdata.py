"""PUMS microdata in the workspace: ``upward fetch pums`` and where the records are kept.

Records are stored as Parquet under ``WS/microdata/pums/{year}-{span}yr/`` (``persons_{st}
.parquet``, ``households_{st}.parquet``), not as DuckDB tables: the same files are read by
DuckDB and by Spark without a copy, a state's release is replaced by renaming two files, and
the warehouse file stays small (a large state's 5-year persons × 81 weights is several GB).
The relations the geography needs (tract → PUMA, tract populations → counties and places) go
into the warehouse's ``crosswalks`` table with provenance, like every other dataset.

Everything is read and checked before anything is written; the Parquet files are written to
temporary names and renamed only once the warehouse transaction has committed.

Examples
--------
>>> from upward.warehouse.workspace import Workspace, Settings
>>> release_dir(Workspace(Path("/w"), Settings()), 2023, 5)
PosixPath('/w/microdata/pums/2023-5yr')
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.errors import ConfigError, InputFileError, UpwardError
from upward.geo.puma import check_vintage, read_tract_puma_frame
from upward.geo.states import STATES_BY_FIPS
from upward.sources.base import Tables
from upward.sources.http import download
from upward.sources.pums import (
    PUMS_BASE,
    Microdata,
    check_release,
    puma_vintage,
    pums_url,
    read_pums,
    read_tract_puma,
)
from upward.warehouse.ingest import sha256_of
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace

TRACT_PUMA_URL = {
    2020: "https://www2.census.gov/geo/docs/maps-data/data/rel2020/"
          "2020_Census_Tract_to_2020_PUMA.txt",
    2010: "https://www2.census.gov/geo/docs/maps-data/data/rel/2010_Census_Tract_to_2010_PUMA.txt",
}
Report = Callable[[str], None]


def release_dir(workspace: Workspace, year: int, span: int) -> Path:
    """The folder of one release's Parquet files.

    >>> from upward.warehouse.workspace import Settings
    >>> release_dir(Workspace(Path("/w"), Settings()), 2019, 1).name
    '2019-1yr'
    """
    return workspace.root / "microdata" / "pums" / f"{year}-{span}yr"


@dataclass(frozen=True)
class StoredRelease:
    """One stored release: its folder, year, span, states and the PUMA vintage."""

    folder: Path
    year: int
    span: int
    states: tuple[str, ...]

    @property
    def vintage(self) -> int:
        """The PUMA vintage of the release.

        >>> StoredRelease(Path("x"), 2023, 5, ("40",)).vintage
        2020
        """
        return puma_vintage(self.year, self.span)

    def files(self, table: str) -> list[Path]:
        """The Parquet files of ``persons`` or ``households``.

        >>> StoredRelease(Path("x"), 2023, 5, ("40",)).files("persons")
        [PosixPath('x/persons_40.parquet')]
        """
        return [self.folder / f"{table}_{st}.parquet" for st in self.states]


def stored_releases(workspace: Workspace) -> list[StoredRelease]:
    """Every stored release, newest first.

    >>> from upward.warehouse.workspace import Settings
    >>> stored_releases(Workspace(Path("/nonexistent"), Settings()))
    []
    """
    root = workspace.root / "microdata" / "pums"
    out = []
    for folder in sorted(root.glob("*-*yr")) if root.exists() else []:
        m = re.fullmatch(r"(\d{4})-(\d)yr", folder.name)
        states = sorted(p.stem.split("_")[1] for p in folder.glob("persons_*.parquet"))
        if m and states:
            out.append(StoredRelease(folder, int(m.group(1)), int(m.group(2)), tuple(states)))
    return sorted(out, key=lambda r: (r.year, r.span == 5), reverse=True)


def find_release(workspace: Workspace, year: int | None = None, span: int | None = None
                 ) -> StoredRelease:
    """The stored release asked for (default: the newest), or an error saying how to load one.

    >>> from upward.warehouse.workspace import Settings
    >>> find_release(Workspace(Path("/nowhere"), Settings()))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.UpwardError: no PUMS microdata in /nowhere. What to do: load them: upward fetch pums --state 40 (online) or --from DIR; the demo has them (upward demo)
    """
    for r in stored_releases(workspace):
        if (year is None or r.year == year) and (span is None or r.span == span):
            return r
    what = "" if year is None else f" for {year}" + ("" if span is None else f" {span}-year")
    raise UpwardError(f"no PUMS microdata{what} in {workspace.root}",
                      fix="load them: upward fetch pums --state 40 (online) or --from DIR; the "
                      "demo has them (upward demo)")


# ------------------------------------------------------------------------------------------------
# Locating files
# ------------------------------------------------------------------------------------------------


def _local(root: Path, names: Sequence[str]) -> Path | None:
    for name in names:
        for base in (root, root / "pums", root / "crosswalks"):
            if (base / name).is_file():
                return base / name
    return None


def _states_under(root: Path) -> list[str]:
    found = set()
    for base in (root, root / "pums"):
        for p in base.glob("psam_p*.csv"):
            m = re.fullmatch(r"psam_p(\d\d)\.csv", p.name)
            if m:
                found.add(m.group(1))
        for p in base.glob("csv_p*.zip"):
            m = re.fullmatch(r"csv_p([a-z]{2})\.zip", p.name)
            for s in STATES_BY_FIPS.values():
                if m and s.abbr.lower() == m.group(1):
                    found.add(s.fips)
    return sorted(found)


def _pums_files(root: Path, state: str) -> tuple[Path, Path]:
    abbr = STATES_BY_FIPS[state].abbr.lower()
    out = []
    for kind in ("p", "h"):
        hit = _local(root, (f"psam_{kind}{state}.csv", f"csv_{kind}{abbr}.zip"))
        if hit is None:
            raise InputFileError(root, f"no psam_{kind}{state}.csv or csv_{kind}{abbr}.zip",
                                 fix="put the Census PUMS person and housing files of the state "
                                 "in the folder (or its pums/ subfolder)")
        out.append(hit)
    return out[0], out[1]


# ------------------------------------------------------------------------------------------------
# Fetch
# ------------------------------------------------------------------------------------------------


def fetch_pums(
    workspace: Workspace,
    *,
    states: Sequence[str] | None = None,
    year: int | None = None,
    span: int = 5,
    from_dir: Path | None = None,
    refresh: bool = False,
    report: Report = lambda message: None,
) -> list[str]:
    """Load PUMS person and housing files, and the PUMA relations, into the workspace.

    Online (no ``from_dir``) the files come from the Census Bureau (``states`` needed); with
    ``from_dir`` they are found there (``psam_p{FIPS}.csv`` or ``csv_p{st}.zip``, in the folder
    or its ``pums/`` subfolder; the tract-to-PUMA file in it or ``crosswalks/``; optional
    ``tract_population_{FIPS}.csv`` with ``GEOID,population[,place]``). ``year`` defaults to the
    newest release online and is read from ``SERIALNO`` offline when not given. A mirror of the
    Census's PUMS folder can be set as ``urls = { "pums" = "https://…/pums" }`` in
    ``upward.toml`` (and ``"pums.tract_puma_2020"`` for the relationship file).

    Returns one line per stored item.
    """
    year = year or (2023 if from_dir is None else None)
    if from_dir is not None:
        root = Path(from_dir)
        if not root.is_dir():
            raise ConfigError(f"--from {root}: not a folder", fix="give the folder of the files")
        states = list(states or _states_under(root))
        if not states:
            raise InputFileError(root, "no PUMS files (psam_p??.csv or csv_p??.zip) found",
                                 fix="give the folder holding the Census PUMS files")
    elif not states:
        raise ConfigError("PUMS is published per state",
                          fix="add --state with a two-digit FIPS code, e.g. --state 40")
    items: list[tuple[str, Tables, dict]] = []
    releases: dict[str, Microdata] = {}
    sources: dict[str, list[tuple[Path, str]]] = {}
    for st in states:
        if st not in STATES_BY_FIPS:
            raise ConfigError(f"--state {st} is not a state FIPS code", fix="e.g. --state 40")
        if from_dir is not None:
            ppath, hpath = _pums_files(Path(from_dir), st)
            locations = [(ppath, ppath.resolve().as_uri()), (hpath, hpath.resolve().as_uri())]
        else:
            locations = []
            for kind in ("p", "h"):
                base = workspace.settings.sources.urls.get("pums", PUMS_BASE)
                url = pums_url(year, span, st, kind, base)
                report(f"downloading {url}")
                got = _download(workspace, url, refresh)
                locations.append((got, url))
        y = year or _year_of(locations[1][0])
        check_release(y, span)
        year = y
        report(f"reading PUMS {y} {span}-year, state {st}")
        md = read_pums(locations[0][0], locations[1][0], year=y, span=span)
        releases[st] = md
        sources[st] = locations
    vintage = puma_vintage(year, span)
    release = f"ACS {year} {span}-year PUMS"
    relation, relation_location = _tract_puma(workspace, vintage, from_dir, refresh, report,
                                              release)
    frame, file_vintage = read_tract_puma_frame(relation)
    check_vintage(vintage, file_vintage, crosswalk=relation.name, release=release)
    known = set(frame["puma_id"])
    for st, md in releases.items():
        missing = sorted(set(md.persons["puma_id"]) - known)
        if missing:
            raise InputFileError(relation, f"PUMA {missing[0]} of the {release} file for state "
                                 f"{st} is not in the tract-to-PUMA relation (a PUMA vintage "
                                 "mismatch?)", fix=f"use the {vintage} tract-to-PUMA file")
    sha = sha256_of(relation)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for st in releases:
        key = f"pums.tract_puma_{vintage}.{st}"
        tables = read_tract_puma(relation, f"{key}@{sha[:12]}")
        tables.crosswalks = tables.crosswalks[tables.crosswalks.from_geo_id.str[:2] == st]
        items.append((key, tables, _prov(key, f"{key}@{sha[:12]}", relation_location, sha,
                                         stamp, tables, "US Census Bureau",
                                         f"{vintage} tract to PUMA relationship")))
        pop_file = _local(Path(from_dir), (f"tract_population_{st}.csv",)) if from_dir else None
        if pop_file is not None:
            key = f"pums.tract_population.{st}"
            psha = sha256_of(pop_file)
            tables = read_tract_population(pop_file, f"{key}@{psha[:12]}")
            items.append((key, tables, _prov(key, f"{key}@{psha[:12]}",
                                             pop_file.resolve().as_uri(), psha, stamp, tables,
                                             "user file", "tract populations")))
        for path, location in sources[st]:
            kind = "persons" if "_p" in path.name else "households"
            key = f"pums.{kind}.{year}-{span}yr.{st}"
            fsha = sha256_of(path)
            empty = Tables()
            empty.notes.append(f"microdata stored as Parquet in {release_dir(workspace, year, span)}")
            items.append((key, empty, _prov(key, f"{key}@{fsha[:12]}", location, fsha, stamp,
                                            empty, "US Census Bureau", release)))
    folder = release_dir(workspace, year, span)
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for st, md in releases.items():
            for name, frame in (("persons", md.persons), ("households", md.households)):
                final = folder / f"{name}_{st}.parquet"
                tmp = final.with_name(final.name + ".partial")
                frame.to_parquet(tmp, index=False)
                staged.append((tmp, final))
        with Warehouse(workspace.warehouse_path) as wh:
            wh.load_many(items)
            wh.checkpoint()
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in staged:
        os.replace(tmp, final)
    (folder / "release.json").write_text(json.dumps({"year": year, "span": span,
                                                      "puma_vintage": vintage}), "utf-8")
    return [f"{release}, state {st}: {len(md.persons):,} persons, {len(md.households):,} "
            f"housing records → {folder}" for st, md in releases.items()]


def _year_of(housing: Path) -> int:
    """The release year from the SERIALNO prefix of the first record (``2023HU…``)."""
    from upward.sources.pums import read_psam

    frame = read_psam(housing, "h")
    m = re.match(r"(\d{4})", str(frame["SERIALNO"].iloc[0])) if len(frame) else None
    if not m:
        raise InputFileError(housing, "the release year cannot be read from SERIALNO",
                             fix="give --year")
    serial_year = int(m.group(1))
    return serial_year


def _download(workspace: Workspace, url: str, refresh: bool) -> Path:
    s = workspace.settings.download
    return download(url, workspace.cache_dir, retries=s.retries, backoff=s.backoff,
                    timeout=s.timeout, refresh=refresh).path


def _tract_puma(workspace: Workspace, vintage: int, from_dir: Path | None, refresh: bool,
                report: Report, release: str) -> tuple[Path, str]:
    names = (f"{vintage}_Census_Tract_to_{vintage}_PUMA.csv",
             f"{vintage}_Census_Tract_to_{vintage}_PUMA.txt")
    if from_dir is not None:
        hit = _local(Path(from_dir), names)
        if hit is None:
            other = 2010 if vintage == 2020 else 2020
            wrong = _local(Path(from_dir), (f"{other}_Census_Tract_to_{other}_PUMA.csv",
                                            f"{other}_Census_Tract_to_{other}_PUMA.txt"))
            if wrong is not None:
                check_vintage(vintage, other, crosswalk=wrong.name, release=release)
            raise InputFileError(Path(from_dir), f"no {names[0]} (or .txt)",
                                 fix="put the Census tract-to-PUMA relationship file of the "
                                 "release's PUMA vintage in the folder or its crosswalks/")
        return hit, hit.resolve().as_uri()
    url = workspace.settings.sources.urls.get(f"pums.tract_puma_{vintage}") or TRACT_PUMA_URL[vintage]
    report(f"downloading {url}")
    path = _download(workspace, url, refresh)
    named = path.with_name(names[1])
    if not named.exists() or refresh:
        named.write_bytes(path.read_bytes())
    return named, url


def read_tract_population(path: Path, source_id: str) -> Tables:
    """Tract populations (``GEOID,population[,place]``) as crosswalk rows weighted by people.

    Each tract gives a row tract → county (its first five digits) and, when ``place`` is
    filled, tract → place, both with ``weight`` = the tract's population and ``weight_kind =
    'population'``.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "tract_population_99.csv"
    >>> _ = p.write_text("GEOID,population,place\\n99001000100,3000,9900100\\n")
    >>> read_tract_population(p, "x").crosswalks[["to_geo_id", "weight"]].values.tolist()
    [['99001', 3000.0], ['9900100', 3000.0]]
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("GEOID", "population"):
        if col not in frame.columns:
            raise InputFileError(path, "a column is missing", column=col,
                                 fix="give GEOID (11-digit tract) and population columns")
    pop = pd.to_numeric(frame["population"], errors="coerce").astype(float)
    bad = pop.isna() | (pop < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFileError(path, f"population {frame['population'].iloc[i]!r} is not a count",
                             row=i + 2, column="population", fix="give whole numbers of people")
    tract = frame["GEOID"].str.zfill(11)
    rows = [pd.DataFrame({"from_geo_id": tract, "to_geo_id": tract.str[:5], "weight": pop})]
    if "place" in frame.columns:
        has = frame["place"].str.strip() != ""
        rows.append(pd.DataFrame({"from_geo_id": tract[has], "to_geo_id":
                                  frame["place"][has].str.zfill(7), "weight": pop[has]}))
    out = pd.concat(rows, ignore_index=True)
    out["weight_kind"] = "population"
    out["vintage"] = None
    out["source_id"] = source_id
    t = Tables()
    t.crosswalks = out[["from_geo_id", "to_geo_id", "weight", "weight_kind", "vintage",
                        "source_id"]]
    return t


def _prov(key: str, source_id: str, url: str, sha: str, stamp: str, tables: Tables,
          publisher: str, title: str) -> dict:
    return {"source_id": source_id, "dataset": key, "publisher": publisher, "title": title,
            "url": url, "retrieved_at": stamp, "sha256": sha, "rows": tables.rows,
            "license": "public domain (US government work)" if publisher.startswith("US")
            else "as supplied", "notes": " ".join(tables.notes)}
