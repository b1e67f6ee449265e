"""Mobility metrics and own tabulations from PUMS microdata, with replicate-weight intervals.

``estimate`` computes a catalog metric (from its recipe in ``metrics/pums_recipes.toml``) for
every place, county, PUMA or state (or a custom area, see :data:`GEOGRAPHIES`), overall or by
race/ethnicity, sex, age band, disability or tenure, on DuckDB or Spark; ``table`` gives any
weighted tabulation with margins. Results carry the SE (successive-difference replication),
95% bounds, CV, unweighted and effective n and Urban's quality grade, and can be stored as
observations so that ``upward profile`` and ``upward barriers`` use them.

Examples
--------
>>> import tempfile, pathlib
>>> from upward.demo.pums import write_demo_pums
>>> from upward.warehouse.workspace import Workspace
>>> from upward.warehouse.microdata import fetch_pums
>>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = write_demo_pums(folder)
>>> _ = fetch_pums(ws, from_dir=folder)
>>> r = estimate("share_employed", geo="county", workspace=ws)
>>> r.frame[["geo_id", "subgroup"]].values.tolist()
[['99001', 'all']]
>>> 0.6 < float(r.frame.estimate[0]) < 0.9 and float(r.frame.se[0]) > 0
True
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.errors import ConfigError, UpwardError

#: Aliases accepted for grouping columns (``--by race``, ``--rows AGEP_band``).
ALIASES = {"race": "race", "ethnicity": "race", "sex": "sex_label", "age": "age_band",
           "age_band": "age_band", "AGEP_band": "age_band", "disability": "disability",
           "tenure": "tenure"}
#: subgroup_type written in observations for each decoded grouping column.
SUBGROUP_TYPES = {"race": "race", "sex_label": "sex", "age_band": "age", "disability": "disability",
                  "tenure": "tenure"}
GEO_LEVELS = ("place", "county", "area", "puma", "state")

#: A geography builder: (tract_puma, population rows of the warehouse) → tract parts
#: ``tract, geo_id, population``. Custom areas (issue #10) register theirs here.
GeographyBuilder = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]
GEOGRAPHIES: dict[str, GeographyBuilder] = {}


def register_geography(level: str, builder: GeographyBuilder) -> None:
    """Let ``estimate(geo=level)`` allocate PUMS records to another kind of area.

    The builder returns the people of each tract living in each area (``tract, geo_id,
    population``); allocation factors follow from :func:`upward.geo.puma.allocation_factors`.

    >>> register_geography("county", _by_length(5))
    """
    GEOGRAPHIES[level] = builder


def _by_length(n: int) -> GeographyBuilder:
    def build(tract_puma: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
        rows = population[population["to_geo_id"].str.len() == n]
        return pd.DataFrame({"tract": rows["from_geo_id"], "geo_id": rows["to_geo_id"],
                             "population": rows["weight"]})
    return build


register_geography("county", _by_length(5))
register_geography("place", _by_length(7))


@dataclass
class MicrodataResult:
    """Estimates with their intervals: one row per geography × subgroup (or table cell)."""

    frame: pd.DataFrame
    metric: str
    release: str
    engine: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """The result as JSON (``metric, release, engine, notes, rows``).

        >>> r = MicrodataResult(pd.DataFrame({"estimate": [1.0]}), "m", "r", "duckdb")
        >>> json.loads(r.to_json())["rows"]
        [{'estimate': 1.0}]
        """
        rows = json.loads(self.frame.to_json(orient="records", double_precision=15))
        return json.dumps({"metric": self.metric, "release": self.release,
                           "engine": self.engine, "notes": self.notes, "rows": rows}, indent=1)

    def to_csv(self) -> str:
        """The rows as CSV.

        >>> MicrodataResult(pd.DataFrame({"estimate": [1.0]}), "m", "r", "duckdb").to_csv()
        'estimate\\n1.0\\n'
        """
        buf = io.StringIO()
        self.frame.to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue()


def _workspace(workspace):
    from upward.warehouse.workspace import Workspace, resolve_workspace

    if isinstance(workspace, Workspace):
        return workspace
    return Workspace.open(resolve_workspace(Path(workspace) if workspace else None))


def _engine(ws, engine: str | None) -> str:
    return engine or ws.settings.microdata.engine


def _tables(ws, release, con, table: str):
    from upward.estimate.engines import read_table

    return read_table(con, release.files(table), f"pums_{table}")


def _factors(ws, release, level: str) -> tuple[pd.DataFrame, list[str]]:
    """PUMA → geography allocation factors for ``level`` from the warehouse's relations."""
    from upward.geo.puma import allocation_factors
    from upward.warehouse.store import Warehouse

    if level not in GEOGRAPHIES and level != "area":
        raise ConfigError(f"--geo {level!r} is not a geography",
                          fix=f"use one of {', '.join([*GEOGRAPHIES, 'area', 'puma', 'state'])}")
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        cw = wh.frame(wh.table("crosswalks"))
    prefix = f"pums.tract_puma_{release.vintage}."
    tp = cw[cw.source_id.str.startswith(prefix)]
    if tp.empty:
        raise UpwardError(f"no {release.vintage} tract-to-PUMA relation in {ws.root}",
                          fix="load it with the PUMS files: upward fetch pums …")
    tract_puma = pd.DataFrame({"tract": tp.from_geo_id, "puma_id": tp.to_geo_id})
    pop = cw[cw.source_id.str.startswith("pums.tract_population.")]
    notes = []
    tract_pop = pop[pop.to_geo_id.str.len() == 5]
    if tract_pop.empty:
        notes.append("no tract populations loaded: tracts weighted equally within PUMAs")
        pop = pd.DataFrame({"from_geo_id": tract_puma.tract, "to_geo_id": tract_puma.tract.str[:5],
                            "weight": 1.0})
        tract_pop = pop
    if level == "area":
        parts, note = _area_parts(ws, tract_puma, tract_pop)
        notes += [note] if note else []
    else:
        parts = GEOGRAPHIES[level](tract_puma, pop)
    if parts.empty and level == "area":
        raise UpwardError(f"no custom areas are stored in {ws.root}",
                          fix="add a set first: upward areas add NAME FILE")
    if parts.empty:
        raise UpwardError(f"no tract-to-{level} relation loaded in {ws.root}",
                          fix="give tract_population_{FIPS}.csv (GEOID,population,place) in "
                          "the --from folder of upward fetch pums")
    tracts = pd.DataFrame({"tract": tract_pop.from_geo_id, "population": tract_pop.weight})
    return allocation_factors(tract_puma, parts, tracts), notes


def _area_parts(ws, tract_puma: pd.DataFrame, tract_pop: pd.DataFrame
                ) -> tuple[pd.DataFrame, str | None]:
    """People of each tract living in each custom area: the tract's population times the
    share of the tract allocated to the area (``upward areas``), the areas carried onto the
    PUMA relation's tract vintage when they were drawn on the other one."""
    from upward.warehouse.areas import align_weights, area_tract_weights

    weights = area_tract_weights(ws)
    by_area = {a: dict(zip(g["tract_geoid"], g["weight"], strict=True))
               for a, g in weights.groupby("area_id")}
    by_area, note = align_weights(ws, by_area, set(tract_puma["tract"]))
    population = dict(zip(tract_pop["from_geo_id"], tract_pop["weight"], strict=False))
    rows = [(t, a, population.get(t, 0.0) * w) for a, ws_ in by_area.items()
            for t, w in ws_.items()]
    return pd.DataFrame(rows, columns=["tract", "geo_id", "population"]), note


def _area_names(ws) -> dict[str, str]:
    from upward.warehouse.areas import list_areas

    areas = list_areas(ws)
    return dict(zip(areas["area_id"], areas["name"], strict=True))


def _resolve_by(by: Sequence[str] | str | None, columns: Sequence[str]) -> list[str]:
    if by is None:
        return []
    names = [by] if isinstance(by, str) else list(by)
    out = []
    for name in names:
        col = ALIASES.get(name, name)
        if col not in columns:
            raise ConfigError(f"--by {name!r} is not a grouping column",
                              fix="use race, sex, age, disability, tenure or a PUMS column")
        out.append(col)
    return out


def estimate(
    metric: str,
    *,
    geo: str = "county",
    by: Sequence[str] | str | None = None,
    workspace=None,
    engine: str | None = None,
    year: int | None = None,
    span: int | None = None,
    where: str | None = None,
    store: bool = False,
) -> MicrodataResult:
    """A catalog metric from the stored PUMS, for every geography of ``geo``, by ``by``.

    Parameters
    ----------
    metric : a metric id with a PUMS recipe (``share_employed``, ``pctl_income_50`` …).
    geo : ``place``, ``county``, ``area`` (every stored custom area, ``upward areas``),
        ``puma``, ``state`` or a geography added with :func:`register_geography`.
    by : ``race``, ``sex``, ``age``, ``disability``, ``tenure`` (or any PUMS column).
    engine : ``duckdb`` (default, or the workspace's ``[microdata] engine``) or ``spark``.
    where : an extra row condition (``"ST=40"``).
    store : also store the rows as observations (``subgroup_type``/``subgroup``, ``se``,
        95% bounds, quality), replacing an earlier run of the same metric, geography and group.
    """
    from upward.estimate.engines import connect
    from upward.estimate.expressions import parse
    from upward.estimate.microdata import Statistic
    from upward.estimate.microdata import estimate as run
    from upward.geo.puma import quality
    from upward.metrics.recipes import get_recipe
    from upward.warehouse.microdata import find_release

    recipe = get_recipe(metric)
    ws = _workspace(workspace)
    release = find_release(ws, year, span)
    engine = _engine(ws, engine)
    con = connect(engine)
    t = _tables(ws, release, con, recipe.table)
    groups = _resolve_by(by, t.columns)
    notes: list[str] = []
    if geo in ("puma", "state"):
        key = "puma_id" if geo == "puma" else "ST"
        t = t.mutate(geo_id=t[key].cast("string"), afact=1.0)
    else:
        factors, notes = _factors(ws, release, geo)
        from upward.estimate.engines import read_table

        af = read_table(con, factors[["puma_id", "geo_id", "afact"]], "pums_factors")
        t = t.join(af, "puma_id")
    condition = parse(recipe.universe, t, option=f"recipe {metric} universe")
    if where:
        condition = condition & parse(where, t, option="--where")
    stat = Statistic(recipe.kind, parse(recipe.variable, t, option=f"recipe {metric}"),
                     parse(recipe.denominator, t) if recipe.denominator else None, recipe.q,
                     name=metric)
    frame = run(t, stat, by=["geo_id", *groups], weight=recipe.weight, factor="afact",
                where=condition, backend=con)
    share = frame["n_alloc"] / frame["n"].where(frame["n"] > 0)
    frame["geo_share"] = share
    frame["quality"] = [quality(s, n, subgroup=bool(groups)) for s, n in
                        zip(share.fillna(0), frame["n"], strict=True)]
    frame.insert(1, "geo_level", geo)
    if groups:
        frame["subgroup_type"] = "_".join(SUBGROUP_TYPES.get(g, g) for g in groups)
        frame["subgroup"] = frame[groups].astype(str).agg(", ".join, axis=1)
        frame = frame.drop(columns=groups)
    else:
        frame["subgroup_type"], frame["subgroup"] = "all", "all"
    cols = ["geo_id", "geo_level", "subgroup_type", "subgroup", "estimate", "se", "lb", "ub",
            "cv", "n", "n_eff", "geo_share", "quality"]
    frame = frame[cols].reset_index(drop=True)
    if geo == "area":
        frame.insert(1, "name", frame["geo_id"].map(_area_names(ws)))
    label = f"ACS {release.year} {release.span}-year PUMS"
    result = MicrodataResult(frame, metric, label, engine, notes)
    if store:
        _store(ws, release, result, geo, groups)
    return result


def _store(ws, release, result: MicrodataResult, geo: str, groups: list[str]) -> None:
    from upward.sources.base import Tables
    from upward.warehouse.store import Warehouse

    f = result.frame
    if geo not in ("place", "county"):
        raise ConfigError(f"--store with --geo {geo}: observations hold places and counties",
                          fix="use --geo place or --geo county to store")
    key = f"pums.metric.{release.year}-{release.span}yr.{result.metric}.{geo}." + \
        ("_".join(groups) or "all")
    digest = hashlib.sha256()
    for p in [*release.files("persons"), *release.files("households")]:
        digest.update(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}".encode())
    digest.update(f.to_csv(index=False).encode())
    sha = digest.hexdigest()
    source_id = f"{key}@{sha[:12]}"
    obs = pd.DataFrame({
        "geo_id": f.geo_id, "geo_level": geo, "metric_id": result.metric,
        "period": str(release.year), "subgroup_type": f.subgroup_type, "subgroup": f.subgroup,
        "estimate": f.estimate, "lb": f.lb, "ub": f.ub, "se": f.se,
        "quality": pd.array(f.quality, dtype="Int8"), "bounds": "ci95", "source_id": source_id,
    })
    obs = obs[np.isfinite(obs.estimate.to_numpy(dtype=float))]
    tables = Tables(observations=obs)
    prov = {"source_id": source_id, "dataset": key, "publisher": "Upward (from US Census "
            "Bureau PUMS)", "title": f"{result.metric} by {geo} from {result.release}",
            "url": release.folder.resolve().as_uri(), "retrieved_at": pd.Timestamp.now(
                tz="UTC").isoformat(timespec="seconds"), "sha256": sha, "rows": len(obs),
            "license": "public domain (US government work)",
            "notes": f"SDR replicate-weight SEs, engine {result.engine}; " + " ".join(result.notes)}
    with Warehouse(ws.warehouse_path) as wh:
        wh.load_many([(key, tables, prov)])
        wh.checkpoint()


def table(
    rows: str,
    cols: str | None = None,
    *,
    where: str | None = None,
    records: str = "persons",
    workspace=None,
    engine: str | None = None,
    year: int | None = None,
    span: int | None = None,
) -> MicrodataResult:
    """A weighted tabulation (estimated counts) with margins, each cell with its SE.

    ``rows`` and ``cols`` are PUMS columns or aliases (``AGEP_band``, ``race`` …); margins are
    labelled ``All``. ``records`` is ``persons`` (PWGTP) or ``households`` (WGTP).
    """
    from upward.estimate.engines import connect
    from upward.estimate.expressions import parse
    from upward.estimate.microdata import Statistic
    from upward.estimate.microdata import estimate as run
    from upward.warehouse.microdata import find_release

    if records not in ("persons", "households"):
        raise ConfigError(f"--records {records!r}", fix="use persons or households")
    ws = _workspace(workspace)
    release = find_release(ws, year, span)
    engine = _engine(ws, engine)
    con = connect(engine)
    t = _tables(ws, release, con, records)
    r = _resolve_by(rows, t.columns)[0]
    c = _resolve_by(cols, t.columns)[0] if cols else None
    condition = parse(where, t, option="--where") if where else None
    weight = "PWGTP" if records == "persons" else "WGTP"
    stat = Statistic("total", None, name="count")
    parts = []
    layouts = [[r, c], [r], [c], []] if c else [[r], []]
    for by in layouts:
        by = [b for b in by if b]
        out = run(t, stat, by=by, weight=weight, where=condition, backend=con)
        for name in (r, c):
            if name and name not in by:
                out[name] = "All"
        parts.append(out)
    frame = pd.concat(parts, ignore_index=True)
    keys = [r, c] if c else [r]
    for k in keys:
        frame[k] = frame[k].astype(str)
    frame = frame[[*keys, "estimate", "se", "lb", "ub", "cv", "n", "n_eff"]]
    label = f"ACS {release.year} {release.span}-year PUMS"
    return MicrodataResult(frame, f"count of {records}", label, engine)
