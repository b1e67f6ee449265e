"""Every table the web pages show, declared once: how it is built, which columns the page shows
and how each is formatted, and which raw fields its CSV and JSON downloads carry.

A page renders the same ``TableData`` it offers for download, so the numbers a reader sees and
the numbers in the file are one computation. Place tables are registered in ``PLACE_TABLES``
(address ``/places/{geo_id}/tables/{name}.csv``, ``?metric=`` for the metric tables); the
catalog and the place list in ``SITE_TABLES`` (``/tables/{name}.csv``).

Examples
--------
>>> t = TableData("demo", "Two rows", [Column("a", "A"), Column("b", "B", "number")],
...               [{"a": "x", "b": 1.5}, {"a": "y", "b": None}])
>>> print(t.to_csv().strip())
a,b
x,1.5
y,
>>> sorted(PLACE_TABLES)[:3]
['county_outcomes', 'disparities', 'distribution']
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pandas as pd

from upward.core.errors import UpwardError
from upward.core.results import json_ready
from upward.geo.resolve import GeoMatch
from upward.measure.groups import group_label
from upward.measure.render import QUALITY_WORDS
from upward.metrics import Metric, all_metrics, get_metric
from upward.report.i18n import N_, current_language, format_decimal
from upward.report.i18n import gettext as _
from upward.web.data import WebData

#: Download formats and their media types.
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "geojson": "application/geo+json"}
#: What the common fields of the downloads mean (the Excel notes sheet lists them).
FIELD_MEANINGS = {
    "estimate": N_("the published value, in the metric's unit"),
    "lb": N_("lower bound of the 95% interval (the publisher's, where it gives one)"),
    "ub": N_("upper bound of the 95% interval"),
    "se": N_("standard error"),
    "quality": N_("the publisher's data-quality grade: 1 good, 2 use with caution, "
                  "3 do not act on it"),
    "period": N_("the year (or last year of the span) the value describes"),
    "source_id": N_("the loaded dataset the value comes from (see the sources below)"),
    "unit": N_("the metric's unit: share = a fraction (0.25 = 25%), dollars = US dollars"),
    "percentile": N_("share of US geographies of the same kind with a lower value (0-100)"),
    "p_value": N_("p-value of the test"),
}


@dataclass(frozen=True)
class Column:
    """One shown column: the row key, the header, and how a cell is rendered (``kind``, a key
    of ``upward.web.templating.CELLS``). ``header`` marks the row-header column; ``raw`` names
    the field whose unformatted number the cell carries in ``data-value``.

    >>> Column("estimate", "Value", "value").numeric
    True
    """

    key: str
    label: str
    kind: str = "text"
    header: bool = False
    raw: str | None = None

    @property
    def numeric(self) -> bool:
        """Right-aligned number column."""
        return self.kind in {"value", "shown", "number", "count", "percentile", "signed",
                             "beta", "p", "peers"}


@dataclass
class TableData:
    """A table: caption, shown columns, rows (dicts of raw values) and the downloaded fields.

    ``key`` names the field that identifies a row (``data-key`` on the page); ``group`` the
    field rows are grouped by (one ``tbody`` per value).

    >>> TableData("t", "c", [Column("a", "A")], [{"a": 1}]).fields
    ['a']
    """

    name: str
    caption: str
    columns: list[Column]
    rows: list[dict]
    fields: list[str] = field(default_factory=list)
    key: str | None = None
    group: str | None = None
    note: str = ""
    base_url: str = ""
    query: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.fields:
            self.fields = [c.key for c in self.columns]

    def groups(self) -> list[tuple[str | None, list[dict]]]:
        """Rows grouped by ``group`` in order of first appearance (one group when None).

        >>> t = TableData("t", "c", [Column("a", "A")], [{"a": 1, "g": "x"}, {"a": 2, "g": "y"}],
        ...               group="g")
        >>> [g for g, _ in t.groups()]
        ['x', 'y']
        """
        if self.group is None:
            return [(None, self.rows)]
        out: dict[str, list[dict]] = {}
        for row in self.rows:
            out.setdefault(row.get(self.group), []).append(row)
        return list(out.items())

    def frame(self) -> pd.DataFrame:
        """The downloaded fields as a DataFrame.

        >>> TableData("t", "c", [Column("a", "A")], [{"a": 1, "b": 2}]).frame().columns.tolist()
        ['a']
        """
        return pd.DataFrame([{f: r.get(f) for f in self.fields} for r in self.rows],
                            columns=self.fields)

    def to_csv(self) -> str:
        """CSV text of the downloaded fields (empty cells for missing values).

        >>> TableData("t", "c", [Column("a", "A")], []).to_csv()
        'a\\n'
        """
        from upward.privacy.spreadsheet import spreadsheet_safe

        buffer = io.StringIO()
        self.frame().map(spreadsheet_safe).to_csv(buffer, index=False)
        return buffer.getvalue()

    def to_dict(self) -> dict:
        """JSON-ready: name, caption, fields and one object per row.

        >>> TableData("t", "c", [Column("a", "A")], [{"a": float("nan")}]).to_dict()["rows"]
        [{'a': None}]
        """
        return json_ready({"table": self.name, "caption": self.caption, "fields": self.fields,
                           "note": self.note,
                           "rows": [{f: _plain(r.get(f)) for f in self.fields} for r in self.rows]})

    def to_json(self) -> str:
        """The table as JSON text.

        >>> json.loads(TableData("t", "c", [Column("a", "A")], []).to_json())["table"]
        't'
        """
        return json.dumps(self.to_dict(), indent=1, allow_nan=False)

    def to_xlsx(self, notes: list[tuple[str, str]] = ()) -> bytes:
        """An Excel workbook: the downloaded fields on a ``data`` sheet, and a ``notes`` sheet
        of (name, text) rows (sources, definitions, intervals). Text cells that a spreadsheet
        would run as a formula are neutralised as in the CSV.

        >>> import io, openpyxl
        >>> t = TableData("t", "c", [Column("a", "A")], [{"a": "=1+2"}, {"a": 2.5}])
        >>> book = openpyxl.load_workbook(io.BytesIO(t.to_xlsx([("Source", "X")])))
        >>> [c.value for c in book["data"]["A"]], book["notes"]["B1"].value
        (['a', "'=1+2", 2.5], 'X')
        """
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font

        from upward.privacy.spreadsheet import spreadsheet_safe

        book = Workbook()
        sheet = book.active
        sheet.title = "data"
        sheet.append(list(self.fields))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in self.rows:
            sheet.append([_cell(spreadsheet_safe(_plain(row.get(f)))) for f in self.fields])
        sheet.freeze_panes = "A2"
        info = book.create_sheet("notes")
        for name, text in notes:
            info.append([spreadsheet_safe(name), spreadsheet_safe(text)])
        info.column_dimensions["A"].width = 28
        info.column_dimensions["B"].width = 110
        for cell in info["B"]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for cell in info["A"]:
            cell.font = Font(bold=True)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    def url(self, fmt: str) -> str:
        """The download address of this table in ``fmt`` (csv or json).

        >>> TableData("t", "c", [], [], base_url="/places/1/tables", query={"metric": "m"}).url("csv")
        '/places/1/tables/t.csv?metric=m'
        """
        query = f"?{urlencode(self.query)}" if self.query else ""
        return f"{self.base_url}/{self.name}.{fmt}{query}"


def _plain(value):
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


#: Headers of the tract statistics (marked for the catalog; translated when a table is built).
STAT_LABELS = {"min": N_("Min"), "p10": N_("P10"), "median": N_("Median"), "p90": N_("P90"),
               "max": N_("Max")}


def _cell(value):
    """A value openpyxl writes as it is: numbers, text, booleans (lists as text)."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _quality_label(q: int | None) -> str:
    return QUALITY_WORDS.get(q, "unknown") if q is not None else "unknown"


def _unit(metric_id: str) -> str:
    try:
        return get_metric(metric_id).unit
    except UpwardError:
        return ""


# -- place overview ---------------------------------------------------------------------------
def scorecard(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """Every metric of the profile by pillar (the report's ``scorecard_table`` rows, so the
    report and the site print the same words), with the place's position among its peers from
    the gap tests of the barrier report.
    """
    from upward.report.charts import scorecard_table

    profile = data.profile(geo)
    report = data.gaps(geo)
    gaps = {g.metric_id: g for g in report.gaps} if report else {}
    trends = {m.metric_id: m.trend for m in profile.metrics}
    rows = []
    for r in scorecard_table(profile):
        g = gaps.get(r["metric_id"])
        t = trends.get(r["metric_id"])
        rows.append({
            **r,
            "trend_first_period": t.first_period if t else None,
            "trend_last_period": t.last_period if t else None,
            "trend_change": t.change if t else None,
            "trend_p_value": t.p_value if t else None,
            "trend_significant": t.significant if t else None,
            "peers_better": g.peers_better if g else None,
            "peer_n": g.peer_n if g else None,
            "peer_median": g.peer_median if g else None,
            "url": f"/places/{geo.geo_id}/metrics/{r['metric_id']}",
        })
    return TableData(
        "scorecard", _("Scorecard: every metric for {name}, by pillar").format(name=geo.name),
        [Column("label", _("Metric"), "link", header=True),
         Column("value", _("Value"), "shown", raw="estimate"),
         Column("interval", _("95% interval")),
         Column("quality_word", _("Data quality"), "quality"), Column("period", _("Year")),
         Column("trend_text", _("Trend"), "trend"), Column("peers_better", _("Peers"), "peers"),
         Column("percentile_text", _("US standing"), "percentile")],
        rows,
        fields=["pillar", "metric_id", "label", "unit", "direction", "estimate", "lb", "ub",
                "quality", "quality_word", "period", "trend_first_period", "trend_last_period",
                "trend_change", "trend_p_value", "trend_significant", "trend_meaning",
                "peers_better", "peer_n", "peer_median", "percentile", "national_n",
                "county_estimate", "source_id"],
        key="metric_id", group="pillar",
        note=_("Peers: how many of the comparison places do better (the peer group of the "
               "barrier report). US standing: the share of US geographies of the same kind "
               "that this one does better than, read the way the metric is better (lower "
               "violent crime is better); metrics with no better side say 'higher than'."))


def county_outcomes(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """The county's Opportunity Atlas and Social Capital outcomes, every subgroup."""
    profile = data.profile(geo)
    where = (profile.county or profile.geo).name
    rows = [{"source": "Opportunity Atlas" if o in profile.atlas else "Social Capital Atlas",
             "metric_id": o.metric_id, "label": o.label, "subgroup_type": o.subgroup_type,
             "subgroup": o.subgroup, "group": group_label(o.subgroup), "estimate": o.estimate, "lb": o.lb, "ub": o.ub,
             "se": o.se, "period": o.period, "unit": _unit(o.metric_id),
             "source_id": o.source_id}
            for o in profile.atlas + profile.social_capital]
    return TableData(
        "county_outcomes",
        _("Opportunity Atlas and Social Capital Atlas outcomes: {where}").format(where=where),
        [Column("label", _("Outcome"), "words", header=True),
         Column("group", _("Group"), "words"),
         Column("estimate", _("Value"), "value"),
         Column("interval", _("95% interval"), "interval"),
         Column("period", _("Period")), Column("source", _("Source"), "words")],
        rows,
        fields=["source", "metric_id", "label", "subgroup_type", "subgroup", "estimate", "lb",
                "ub", "se", "period", "unit", "source_id"])


def tract_spread(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """The spread of tract outcomes inside the geography."""
    profile = data.profile(geo)
    rows = [{**{k: getattr(s, k) for k in ("metric_id", "label", "n_tracts", "min", "p10", "p25",
                                            "median", "p75", "p90", "max", "mean")},
             "unit": _unit(s.metric_id)} for s in profile.tracts]
    stats = ("min", "p10", "median", "p90", "max")
    return TableData(
        "tract_spread",
        _("Neighbourhood outcomes: the spread over the tracts of {name}").format(name=geo.name),
        [Column("label", _("Outcome"), "words", header=True),
         Column("n_tracts", _("Tracts"), "count"),
         *[Column(s, _(STAT_LABELS[s]), "value") for s in stats]],
        rows,
        fields=["metric_id", "label", "unit", "n_tracts", "min", "p10", "p25", "median", "p75",
                "p90", "max", "mean"],
        note=profile.tract_method or "")


def sources(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """The datasets the profile's numbers come from, with their checksums."""
    profile = data.profile(geo)
    rows = [{k: s.get(k) for k in ("dataset", "publisher", "url", "retrieved_at", "sha256",
                                   "rows", "license")} for s in profile.sources]
    return TableData(
        "sources", _("Where the numbers come from"),
        [Column("dataset", _("Dataset"), header=True), Column("publisher", _("Publisher")),
         Column("retrieved_at", _("Retrieved")), Column("rows", _("Rows"), "count"),
         Column("sha256", "SHA-256", "code")],
        rows, fields=["dataset", "publisher", "url", "retrieved_at", "sha256", "rows", "license"])


# -- metric page ------------------------------------------------------------------------------
def _need(metric: Metric | None) -> Metric:
    if metric is None:
        from upward.web.errors import ParameterError

        raise ParameterError("metric", _("this table is about one metric"),
                             fix=_("add ?metric=METRIC_ID (see /metrics)"))
    return metric


def series(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """Every published value of one metric for the place, by release and year."""
    m = _need(metric)
    frame = data.series(geo, m.id)
    rows = [{**r, "unit": m.unit, "quality_label": _quality_label(_int(r["quality"]))}
            for r in frame.to_dict("records")]
    return TableData(
        "series", _("{metric}: every published value for {name}").format(metric=_(m.label),
                                                                        name=geo.name),
        [Column("period", _("Period"), header=True), Column("estimate", _("Value"), "value"),
         Column("interval", _("95% interval"), "interval"),
         Column("quality_label", _("Data quality"), "quality"),
         Column("release", _("Release"))],
        rows, fields=["period", "estimate", "lb", "ub", "quality", "bounds", "release",
                      "source_id", "unit"],
        query={"metric": m.id},
        note=_("Each release is its own series: releases revise methods, so values of two "
               "releases are not joined into one trend."))


def peers(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """The place and its peer group on one metric, best first in the metric's direction."""
    m = _need(metric)
    report = data.gaps(geo)
    frame = data.peer_values(geo, m.id)
    rows = [{**r, "unit": m.unit, "is_target": r["geo_id"] == geo.geo_id,
             "quality_label": _quality_label(_int(r["quality"])),
             "url": f"/places/{r['geo_id']}/metrics/{m.id}"} for r in frame.to_dict("records")]
    descending = m.direction != "lower"
    rows.sort(key=lambda r: (r["estimate"] is None, -(r["estimate"] or 0) if descending
                             else (r["estimate"] or 0)))
    return TableData(
        "peers", _("{metric}: {name} and its peers").format(metric=_(m.label), name=geo.name),
        [Column("name", _("Place"), "place", header=True),
         Column("estimate", _("Value"), "value"),
         Column("interval", _("95% interval"), "interval"), Column("period", _("Year")),
         Column("percentile", _("US percentile"), "percentile")],
        rows, fields=["geo_id", "name", "is_target", "estimate", "lb", "ub", "quality",
                      "period", "percentile", "source_id", "unit"],
        key="geo_id", query={"metric": m.id},
        note=report.peers.method if report else _("no peer group could be chosen"))


def distribution(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """The latest value of every US geography of the place's kind (the national distribution)."""
    m = _need(metric)
    frame = data.distribution(geo.geo_level, m.id)
    rows = [{**r, "unit": m.unit, "is_target": r["geo_id"] == geo.geo_id,
             "url": f"/places/{r['geo_id']}/metrics/{m.id}"} for r in frame.to_dict("records")]
    caption = (_("{metric}: every US place ({n} places), lowest first")
               if geo.geo_level == "place" else
               _("{metric}: every US county ({n} counties), lowest first"))
    return TableData(
        "distribution", caption.format(metric=_(m.label), n=format_decimal(len(rows), "#,##0")),
        [Column("name", _("Place"), "place", header=True),
         Column("estimate", _("Value"), "value"),
         Column("period", _("Year")), Column("percentile", _("US percentile"), "percentile")],
        rows, fields=["geo_id", "name", "estimate", "lb", "ub", "quality", "period",
                      "percentile", "source_id", "unit"],
        key="geo_id", query={"metric": m.id})


def _int(value) -> int | None:
    return None if value is None or value is pd.NA or pd.isna(value) else int(value)


# -- barriers page ----------------------------------------------------------------------------
def findings(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """The barriers: metrics significantly worse than the peers or the nation, ranked."""
    report = data.barriers(geo)
    rows = [{"rank": f.rank, "pillar": f.pillar, "metric_id": f.metric_id, "label": f.label,
             "sentence": _finding_sentence(report, f), "behind_peers": f.behind_peers,
             "behind_nation": f.behind_nation, "score": f.score,
             "url": f"/places/{geo.geo_id}/metrics/{f.metric_id}"} for f in report.findings]
    return TableData(
        "findings", _("Barriers in {name}, ranked").format(name=geo.name),
        [Column("rank", _("Rank"), "count"), Column("sentence", _("Finding"), header=True),
         Column("behind_peers", _("Behind peers"), "bool"),
         Column("behind_nation", _("Behind the US"), "bool")],
        rows, fields=["rank", "pillar", "metric_id", "label", "sentence", "behind_peers",
                      "behind_nation", "score"], key="metric_id")


def _finding_sentence(report, finding) -> str:
    """The finding's sentence in the current language (``upward.report.sentences``)."""
    from upward.report.sentences import finding_sentence

    gap = next((g for g in report.gaps if g.metric_id == finding.metric_id), None)
    if current_language() == "en" or gap is None:
        return finding.sentence
    return finding_sentence(gap, report.geo.geo_level)


def gaps(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """Every metric against the peer median and the national median, with both tests."""
    report = data.barriers(geo)
    rows = [{**{k: getattr(g, k) for k in g.__dataclass_fields__},
             "url": f"/places/{geo.geo_id}/metrics/{g.metric_id}"} for g in report.gaps]
    return TableData(
        "gaps", _("Every metric against the peers and the nation"),
        [Column("label", _("Metric"), "link", header=True),
         Column("estimate", _("Value"), "value"),
         Column("peer_median", _("Peer median"), "value"),
         Column("peer_q", _("Peer test q"), "p"),
         Column("national_median", _("US median"), "value"),
         Column("national_q", _("US test q"), "p"), Column("finding", _("Barrier"), "bool"),
         Column("note", _("Note"))],
        rows, fields=list(report.gaps[0].__dataclass_fields__) if report.gaps else [],
        key="metric_id", group="pillar",
        note=report.method.get("gap_test", ""))


def peer_group(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """The comparison places and their distance from the place."""
    report = data.barriers(geo)
    rows = [{"geo_id": p.geo_id, "geo_level": p.geo_level, "name": p.name,
             "distance": p.distance, "why": p.why, "url": f"/places/{p.geo_id}"}
            for p in report.peers.peers]
    return TableData(
        "peer_group", _("The peers of {name}").format(name=geo.name),
        [Column("name", _("Peer"), "place", header=True),
         Column("why", _("Why: the peer's figures ({name}'s in brackets)").format(
             name=geo.name.split(",")[0]), "why"),
         Column("distance", _("Distance (SD units)"), "number")],
        rows, fields=["geo_id", "geo_level", "name", "distance", "why"], key="geo_id",
        note=report.peers.method)


def trends(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """Each metric's trend, its verdict, and whether it diverges from the peers' trends."""
    report = data.barriers(geo)
    units = {g.metric_id: g.unit for g in report.gaps}
    rows = [{**{k: getattr(t, k) for k in t.__dataclass_fields__},
             "years": f"{t.first_period}–{t.last_period}", "unit": units.get(t.metric_id, "")}
            for t in report.trends]
    return TableData(
        "trends", _("Trends and how they compare with the peers' trends"),
        [Column("label", _("Metric"), "words", header=True), Column("years", _("Years")),
         Column("change", _("Change"), "signed"), Column("verdict", _("Verdict"), "words"),
         Column("peer_median_change", _("Peer median change"), "signed"),
         Column("diverges", _("Diverges from peers"), "bool")],
        rows, fields=["metric_id", "label", "first_period", "last_period", "change", "p_value",
                      "verdict", "peer_median_change", "n_peers", "divergence_p",
                      "divergence_q", "diverges"], key="metric_id")


def disparities(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """Gaps between groups (race, sex, parental income) on the county's outcomes."""
    report = data.barriers(geo)
    rows = [{**{k: getattr(d, k) for k in d.__dataclass_fields__},
             "groups": _("{group} vs {reference}").format(group=_(d.group), reference=_(d.reference))} for d in report.disparities]
    return TableData(
        "disparities", _("Disparities between groups"),
        [Column("label", _("Outcome"), "words", header=True), Column("groups", _("Groups")),
         Column("value", _("Group"), "number"),
         Column("reference_value", _("Reference"), "number"),
         Column("difference", _("Gap"), "number"), Column("ci", _("95% CI"), "ci"),
         Column("p_value", "p", "p")],
        rows, fields=["metric_id", "label", "source", "group", "reference", "value",
                      "reference_value", "difference", "lb", "ub", "p_value"])


def lowest_tracts(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """The neighbourhoods with the lowest upward mobility."""
    report = data.barriers(geo)
    hood = report.neighbourhoods or {}
    unit = _unit(hood.get("metric_id", "kfr_dollars_p25"))
    rows = [{**t, "unit": unit} for t in hood.get("lowest_tracts", [])]
    return TableData(
        "lowest_tracts", _("Tracts with the lowest upward mobility"),
        [Column("geo_id", _("Tract"), "code", header=True),
         Column("name", _("Neighbourhood")),
         Column("value", _("Income at 35 (parents at p25)"), "value"),
         Column("kid_count", _("Children in the sample"), "count")],
        rows, fields=["geo_id", "name", "value", "kid_count"], key="geo_id")


def drivers(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """The metrics that go with upward mobility across places (standardised betas)."""
    report = data.barriers(geo)
    model = report.drivers or {}
    rows = list(model.get("drivers", []))
    return TableData(
        "drivers", (_("What goes with upward mobility across US places ({outcome})")
                    if model.get("level", "place") == "place" else
                    _("What goes with upward mobility across US counties ({outcome})")).format(
            outcome=_(model.get("outcome_label") or "outcome")),
        [Column("label", _("Metric"), "words", header=True),
         Column("beta", _("Standardised beta"), "beta"),
         Column("ci", _("95% CI"), "ci"), Column("p_value", "p", "p"),
         Column("significant", _("Significant"), "bool")],
        rows, fields=["metric_id", "label", "pillar", "beta", "se", "ci_low", "ci_high",
                      "p_value", "significant", "correlation", "vif"], key="metric_id",
        note=model.get("caveat", ""))


# -- map --------------------------------------------------------------------------------------
def tracts(data: WebData, geo: GeoMatch, metric: Metric | None = None) -> TableData:
    """The tract values behind the map."""
    from upward.measure.series import DEFAULT_MAP_METRIC, MAP_METRICS

    m = metric or MAP_METRICS[DEFAULT_MAP_METRIC]
    tract_map = data.tract_map(geo, m.id)
    rows = [{**r, "unit": m.unit, "quality_label": _quality_label(_int(r["quality"]))}
            for r in tract_map.values.to_dict("records")]
    rows.sort(key=lambda r: (r["estimate"] is None or pd.isna(r["estimate"]),
                             r["estimate"] if r["estimate"] is not None else 0))
    return TableData(
        "tracts", _("{metric}: every tract of {name}, lowest first").format(metric=_(m.label),
                                                                           name=geo.name),
        [Column("geo_id", _("Tract"), "code", header=True), Column("name", _("Name")),
         Column("estimate", _("Value"), "value"),
         Column("has_geometry", _("On the map"), "bool")],
        rows, fields=["geo_id", "name", "estimate", "quality", "period", "has_geometry",
                      "source_id", "unit"], key="geo_id", query={"metric": m.id},
        note=tract_map.method or "")


@dataclass(frozen=True)
class PlaceTable:
    """A registered place table: its builder and whether it needs ``?metric=``.

    >>> PLACE_TABLES["series"].needs_metric, PLACE_TABLES["scorecard"].needs_metric
    (True, False)
    >>> PLACE_TABLES["gaps"].build is gaps
    True
    """

    build: Callable[..., TableData]
    needs_metric: bool = False


PLACE_TABLES: dict[str, PlaceTable] = {
    "scorecard": PlaceTable(scorecard),
    "county_outcomes": PlaceTable(county_outcomes),
    "tract_spread": PlaceTable(tract_spread),
    "sources": PlaceTable(sources),
    "series": PlaceTable(series, needs_metric=True),
    "peers": PlaceTable(peers, needs_metric=True),
    "distribution": PlaceTable(distribution, needs_metric=True),
    "findings": PlaceTable(findings),
    "gaps": PlaceTable(gaps),
    "peer_group": PlaceTable(peer_group),
    "trends": PlaceTable(trends),
    "disparities": PlaceTable(disparities),
    "lowest_tracts": PlaceTable(lowest_tracts),
    "drivers": PlaceTable(drivers),
    "tracts": PlaceTable(tracts),
}


def place_table(name: str, data: WebData, geo: GeoMatch, metric: Metric | None = None
                ) -> TableData:
    """A registered place table with its download address, built once per place (and metric)
    while the app's cache keeps it.
    """

    def build() -> TableData:
        table = PLACE_TABLES[name].build(data, geo, metric)
        table.base_url = f"/places/{geo.geo_id}/tables"
        return table

    return data.memo(("table", name, current_language(), geo.geo_id, geo.geo_level,
                      metric.id if metric else None), build)


# -- site tables ------------------------------------------------------------------------------
def metric_catalog(data: WebData, level: str | None = None, state: str | None = None
                   ) -> TableData:
    """The metric catalog.

    >>> metric_catalog(None).rows[0]["publisher"]
    'Urban Institute'
    """
    rows = [{**m.to_dict(), "url": f"/metrics/{m.id}"} for m in all_metrics()]
    for r in rows:
        r["geo_levels"] = ", ".join(r["geo_levels"])
    return TableData(
        "metrics", _("Every metric Upward knows"),
        [Column("label", _("Metric"), "link", header=True), Column("id", _("Id"), "code"),
         Column("pillar", _("Pillar"), "words"), Column("unit", _("Unit"), "words"),
         Column("direction", _("Better when"), "words"),
         Column("publisher", _("Publisher"))],
        rows, fields=["id", "label", "pillar", "predictor", "unit", "direction", "definition",
                      "source", "publisher", "citation", "geo_levels", "parity_value"],
        key="id", group="publisher", base_url="/tables")


def place_list(data: WebData, level: str | None = "place", state: str | None = None
               ) -> TableData:
    """The loaded places (or counties) with published values."""
    frame = data.places(level or "place", state)
    rows = [{**r, "url": f"/places/{r['geo_id']}"} for r in frame.to_dict("records")]
    caption = (_("Counties with published data ({n})") if level == "county"
               else _("Places with published data ({n})"))
    query = {k: v for k, v in (("level", level), ("state", state)) if v}
    return TableData(
        "places", caption.format(n=format_decimal(len(rows), "#,##0")),
        [Column("name", _("Name"), "place", header=True), Column("state", _("State")),
         Column("geo_id", _("Code"), "code"), Column("population", _("Population"), "count")],
        rows, fields=["geo_id", "geo_level", "name", "state_fips", "state", "population"],
        key="geo_id", group="state_name", base_url="/tables", query=query)


SITE_TABLES: dict[str, Callable[..., TableData]] = {
    "metrics": metric_catalog,
    "places": place_list,
}


__all__ = ["FORMATS", "PLACE_TABLES", "SITE_TABLES", "Column", "PlaceTable", "TableData",
           "place_table"]
