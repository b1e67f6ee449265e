"""Evidence pages and the read-only evidence API, all from the *published view* of the library
(``upward.evidence.publish``): no cell from fewer than 11 people reaches a page or the API.

Pages: ``/evidence`` (interventions, searched and filtered by policy area, outcome, outcome
domain, population, design, ESSA tier, cost and city), ``/evidence/ratings`` (the rating rules),
``/evidence/{intervention_id}`` (its studies, a forest plot with a table alternative, the pooled
effect, and a form projecting it onto a place), ``/places/{geo_id}/recommend`` (candidate
interventions for the place's barriers, ``upward.evidence.recommend``).
API: ``/api/evidence`` (same filters), ``/api/evidence/schema``,
``/api/evidence/studies/{study_id}``, ``/api/evidence/{intervention_id}``, ``…/pool``,
``…/project`` and ``/api/places/{geo_id}/recommend``.

Examples
--------
>>> sorted(r.path for r in router.routes if r.path.startswith("/api"))[:3]
['/api/evidence', '/api/evidence/schema', '/api/evidence/studies/{study_id}']
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import plotly.graph_objects as go
from fastapi import APIRouter, Query, Request

from upward.core.errors import UpwardError
from upward.evidence.library import EvidenceNotFoundError
from upward.evidence.projection import EvidencePool, eligible_from, pool_evidence, project_in_place
from upward.evidence.publish import (
    PublishedLibrary,
    intervention_detail,
    intervention_rows,
    study_detail,
)
from upward.evidence.rating import CRITERIA, FRAMEWORKS, RULES
from upward.evidence.schema import POLICY_AREAS, json_schema
from upward.report.i18n import N_
from upward.report.i18n import gettext as _
from upward.web.errors import Problem, respond
from upward.web.templating import render

router = APIRouter(tags=["evidence"], responses={
    404: {"description": "No intervention or study has this id"},
    422: {"description": "A parameter cannot be used: error.parameter names it"}})

METHODS = ("REML", "DL", "PM", "ML", "FE")
MAX_FORESTS = 6  # forest plots on one intervention page; other outcomes are one click away
MethodQuery = Annotated[str, Query(pattern="^(REML|DL|PM|ML|FE)$",
                                   description="Pooling method: REML, DL, PM, ML or FE")]
HkQuery = Annotated[bool, Query(description="Hartung-Knapp-Sidik-Jonkman interval")]


def library_of(request: Request) -> PublishedLibrary:
    """The published view of the app's workspace library.

    >>> import tempfile, pathlib
    >>> from types import SimpleNamespace
    >>> from upward.warehouse.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> app = SimpleNamespace(state=SimpleNamespace(workspace=ws))
    >>> library = library_of(Request({"type": "http", "app": app}))
    >>> type(library).__name__, library.interventions()
    ('PublishedLibrary', [])
    """
    return PublishedLibrary(request.app.state.workspace)


def _not_found(request: Request, exc: EvidenceNotFoundError):
    return respond(request, Problem(404, "Not in the evidence library", exc.message, exc.fix))


def _filters(policy_area: str | None, tier: int | None, **named: str | None) -> None:
    from upward.evidence.publish import FilterError, check_filters
    from upward.web.errors import ParameterError

    if policy_area and policy_area not in POLICY_AREAS:
        raise ParameterError("policy_area", f"{policy_area!r} is not a policy area",
                             fix=f"use one of {', '.join(POLICY_AREAS)}")
    if tier is not None and not 1 <= tier <= 4:
        raise ParameterError("tier", f"{tier} is not an ESSA tier", fix="use 1, 2, 3 or 4")
    for name, value in named.items():
        try:
            check_filters(**{name: value})
        except FilterError as exc:
            raise ParameterError(name, exc.message, fix=exc.fix) from None


DomainQuery = Annotated[str | None, Query(description="an outcome domain, e.g. earnings")]
PopulationQuery = Annotated[str | None, Query(description="a population, e.g. youth")]
DesignQuery = Annotated[str | None, Query(description="a study design: rct, cluster_rct, rd, "
                                          "qed, correlational, descriptive")]
CityQuery = Annotated[str | None, Query(max_length=100, description="part of a study's city")]
TextQuery = Annotated[str | None, Query(max_length=100, description="words in the name or "
                                        "description")]


# -- API -------------------------------------------------------------------------------------
@router.get("/api/evidence")
def api_list(
    request: Request,
    policy_area: Annotated[str | None, Query(description="e.g. workforce")] = None,
    outcome: Annotated[str | None, Query(description="an outcome id, e.g. earnings_annual")] =
    None,
    tier: Annotated[int | None, Query(description="ESSA tier at least this strong (1-4)")] =
    None,
    domain: DomainQuery = None,
    population: PopulationQuery = None,
    design: DesignQuery = None,
    city: CityQuery = None,
    max_cost: Annotated[float | None, Query(ge=0, description="known cost per participant at "
                                            "most this (constant dollars)")] = None,
    dollars_of: Annotated[int | None, Query(ge=1913, le=2100, description="dollar year of "
                                            "costs (default: the latest CPI year)")] = None,
    q: TextQuery = None,
) -> list[dict]:
    """Interventions in the evidence library with their intervention-level ratings, searched
    and filtered by policy area, outcome, outcome domain, population, design, ESSA tier, cost
    and city."""
    _filters(policy_area, tier, domain=domain, population=population, design=design)
    return intervention_rows(library_of(request).snapshot(), policy_area=policy_area,
                             outcome=outcome, max_tier=tier, domain=domain,
                             population=population, design=design, city=city,
                             max_cost=max_cost, dollars_of=dollars_of, query=q)


@router.get("/api/evidence/schema")
def api_schema() -> dict:
    """The JSON Schema of evidence files (interventions, studies, effects)."""
    return json_schema()


@router.get("/api/evidence/studies/{study_id}")
def api_study(request: Request, study_id: str):
    """One study (published view) with its WWC, ESSA and SPTW ratings and their reasons."""
    try:
        return study_detail(library_of(request), study_id)
    except EvidenceNotFoundError as exc:
        return _not_found(request, exc)


@router.get("/api/evidence/{intervention_id}")
def api_intervention(request: Request, intervention_id: str):
    """One intervention: its studies, effects, outcomes and ratings (published view)."""
    try:
        return intervention_detail(library_of(request), intervention_id)
    except EvidenceNotFoundError as exc:
        return _not_found(request, exc)


@router.get("/api/evidence/{intervention_id}/pool")
def api_pool(request: Request, intervention_id: str,
             outcome: Annotated[str, Query(description="the outcome id to pool")],
             method: MethodQuery = "REML", hk: HkQuery = False):
    """The pooled effect of the intervention's studies on one outcome, with the forest table."""
    try:
        return pool_evidence(library_of(request), intervention_id, outcome, method=method,
                             hartung_knapp=hk).to_dict()
    except EvidenceNotFoundError as exc:
        return _not_found(request, exc)


@router.get("/api/evidence/{intervention_id}/project")
def api_project(
    request: Request, intervention_id: str,
    outcome: Annotated[str, Query(description="the outcome id")],
    place: Annotated[str, Query(max_length=200, description="a place name or code")],
    eligible: Annotated[float | None, Query(ge=0, description="eligible people")] = None,
    share: Annotated[float | None, Query(gt=0, le=1, description="eligible share of the "
                                         "population")] = None,
    share_metric: Annotated[str | None, Query(description="a share metric of the profile")] =
    None,
    complement: bool = False,
    take_up: Annotated[float | None, Query(gt=0, le=1, description="share who take part "
                                           "(default: the study's first stage)")] = None,
    cost: Annotated[float | None, Query(ge=0, description="the program's cost per participant, in dollars")] = None,
    method: MethodQuery = "REML", hk: HkQuery = False,
    dollars_of: Annotated[int | None, Query(ge=1913, le=2100, description="dollar year of "
                                            "money (default: the latest CPI year)")] = None,
):
    """What the intervention would do in a place: the pooled effect on its eligible people,
    with the range for a new city and the total cost, in constant dollars."""
    try:
        return _projection(request, intervention_id, outcome, place, eligible=eligible,
                           share=share, share_metric=share_metric, complement=complement,
                           take_up=take_up, cost=cost, method=method, hk=hk,
                           dollars_of=dollars_of).to_dict()
    except EvidenceNotFoundError as exc:
        return _not_found(request, exc)


def _projection(request: Request, intervention_id: str, outcome: str, place: str, *,
                eligible, share, share_metric, complement, take_up, cost, method, hk,
                dollars_of=None):
    geo_id, name, basis = None, place, "given"
    if eligible is None:
        data = request.app.state.data
        geo = data.resolve(place)
        eligible, basis = eligible_from(data.profile(geo), share=share,
                                        share_metric=share_metric or None, complement=complement)
        geo_id, name = geo.geo_id, geo.name
    return project_in_place(library_of(request), intervention_id, outcome, name,
                            eligible=eligible, eligible_basis=basis, geo_id=geo_id,
                            take_up=take_up, cost_per_participant=cost, method=method,
                            hartung_knapp=hk, dollars_of=dollars_of)


# -- charts ----------------------------------------------------------------------------------
def forest_figure(pool: EvidencePool) -> go.Figure:
    """A forest plot: each study's estimate and 95% CI (marker size by weight), the pooled
    effect and, when there is one, the prediction interval for a new city.

    >>> from types import SimpleNamespace
    >>> rows = [{"study": "Pilot A", "kind": "study", "estimate": 0.05, "ci_low": 0.01,
    ...          "ci_high": 0.09, "weight": 60.0, "pi_low": None, "pi_high": None},
    ...         {"study": "Pooled", "kind": "pooled", "estimate": 0.04, "ci_low": 0.02,
    ...          "ci_high": 0.06, "weight": 100.0, "pi_low": -0.01, "pi_high": 0.09}]
    >>> pool = SimpleNamespace(forest=rows, measure="rd", intervention_name="Job training",
    ...                        outcome_label="employment", unit="share")
    >>> fig = forest_figure(pool)
    >>> [t.name for t in fig.data], fig.layout.title.text
    (['Study (95% CI)', 'Prediction interval (new city)', 'Pooled (95% CI)'], 'Job training: effect on employment')
    """
    rows = pool.forest
    labels = [r["study"] for r in rows]
    fig = go.Figure()
    studies = [r for r in rows if r["kind"] == "study"]
    fig.add_trace(go.Scatter(
        x=[r["estimate"] for r in studies], y=[r["study"] for r in studies], mode="markers",
        name="Study (95% CI)", marker={"symbol": "square", "color": "#1f4e79",
                                       "size": [6 + 0.25 * r["weight"] for r in studies]},
        error_x={"type": "data", "symmetric": False,
                 "array": [r["ci_high"] - r["estimate"] for r in studies],
                 "arrayminus": [r["estimate"] - r["ci_low"] for r in studies]},
        hovertemplate="%{y}: %{x:,.4g}<extra></extra>"))
    pooled = [r for r in rows if r["kind"] == "pooled"]
    for r in pooled:
        if r["pi_low"] is not None:
            fig.add_trace(go.Scatter(x=[r["pi_low"], r["pi_high"]], y=[r["study"]] * 2,
                                     mode="lines", name="Prediction interval (new city)",
                                     line={"color": "#b45f06", "width": 2, "dash": "dot"}))
        fig.add_trace(go.Scatter(
            x=[r["ci_low"], r["estimate"], r["ci_high"], r["estimate"], r["ci_low"]],
            y=[r["study"]] * 5, mode="lines", fill="toself", name="Pooled (95% CI)",
            line={"color": "#b45f06", "width": 6}))
    ratio = pool.measure in ("log_rr", "log_or")  # drawn as ratios, on a log axis
    fig.add_vline(x=1.0 if ratio else 0.0, line={"color": "#666", "dash": "dash", "width": 1})
    if ratio:
        fig.update_xaxes(type="log")
    fig.update_layout(
        title={"text": f"{pool.intervention_name}: effect on {pool.outcome_label}"},
        xaxis_title=f"Effect ({pool.unit or pool.measure})", template="plotly_white",
        height=160 + 48 * len(labels), margin={"l": 20, "r": 20, "t": 60, "b": 50},
        yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": labels,
               "automargin": True},
        legend={"orientation": "h", "y": -0.25})
    return fig


def forest_frame(pool: EvidencePool) -> pd.DataFrame:
    """The forest plot's numbers as a table for readers (the chart's text alternative).

    >>> from types import SimpleNamespace
    >>> rows = [{"study": "Pilot A", "kind": "study", "estimate": 0.05, "ci_low": 0.01,
    ...          "ci_high": 0.09, "weight": 60.0, "pi_low": None, "pi_high": None}]
    >>> forest_frame(SimpleNamespace(forest=rows)).iloc[0].tolist()
    ['Pilot A', '0.05', '0.01 to 0.09', '60.0%', '—']
    """
    def num(x):
        return "—" if x is None else f"{x:,.4g}"

    return pd.DataFrame([{
        "Study": r["study"], "Estimate": num(r["estimate"]),
        "95% CI": f"{num(r['ci_low'])} to {num(r['ci_high'])}",
        "Weight": f"{r['weight']:.1f}%",
        "Prediction interval": ("—" if r["pi_low"] is None
                                else f"{num(r['pi_low'])} to {num(r['pi_high'])}"),
    } for r in pool.forest])


def _forest_block(pool: EvidencePool, index: int) -> dict:
    from upward.report.charts import figure_div, table_alternative

    caption = _("Effect of {name} on {outcome}: each study and the pooled estimate "
                "({method})").format(name=pool.intervention_name, outcome=_(pool.outcome_label),
                                     method=pool.pooled.method + (", HK" if pool.pooled.hk
                                                                  else ""))
    fig = forest_figure(pool)
    return {"div": figure_div(fig, f"forest-{index}"), "caption": caption,
            "table": table_alternative(forest_frame(pool), caption,
                                       numeric=("Estimate", "95% CI", "Weight",
                                                "Prediction interval"))}


# -- pages -----------------------------------------------------------------------------------
@router.get("/evidence", include_in_schema=False)
def evidence_page(
    request: Request,
    policy_area: Annotated[str | None, Query()] = None,
    outcome: Annotated[str | None, Query()] = None,
    tier: Annotated[str | None, Query()] = None,
    domain: Annotated[str | None, Query()] = None,
    population: Annotated[str | None, Query()] = None,
    design: Annotated[str | None, Query()] = None,
    city: Annotated[str | None, Query(max_length=100)] = None,
    max_cost: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
):
    """The interventions in the library, searched and filtered (an empty field is no filter,
    so the form works without JavaScript)."""
    from upward.evaluate.categories import STUDY_DESIGNS
    from upward.evidence.money import latest_year
    from upward.evidence.schema import POPULATIONS
    from upward.metrics.catalog import OUTCOME_DOMAINS
    from upward.web.errors import ParameterError

    chosen = {"policy_area": policy_area, "outcome": outcome, "domain": domain,
              "population": population, "design": design, "city": city, "q": q}
    chosen = {k: (v or None) for k, v in chosen.items()}
    try:
        tier_n = int(tier) if tier else None
    except ValueError:
        raise ParameterError("tier", f"{tier!r} is not an ESSA tier", fix="use 1, 2, 3 or 4"
                             ) from None
    _filters(chosen["policy_area"], tier_n, domain=chosen["domain"],
             population=chosen["population"], design=chosen["design"])
    library = library_of(request).snapshot()
    everything = intervention_rows(library)
    rows = intervention_rows(library, policy_area=chosen["policy_area"],
                             outcome=chosen["outcome"], max_tier=tier_n,
                             domain=chosen["domain"], population=chosen["population"],
                             design=chosen["design"], city=chosen["city"],
                             max_cost=_number("max_cost", max_cost), query=chosen["q"])
    outcomes = library.outcomes()
    return render(request, "evidence_list.html", {
        "rows": rows, "total": len(everything), "policy_areas": POLICY_AREAS,
        "outcomes": outcomes, "domains": OUTCOME_DOMAINS, "populations": POPULATIONS,
        "designs": {k: d.label for k, d in STUDY_DESIGNS.items()},
        "dollars_of": latest_year(),
        "selected": chosen | {"tier": tier_n, "max_cost": max_cost or None}})


@router.get("/evidence/ratings", include_in_schema=False)
def ratings_page(request: Request):
    """How the ratings are decided: every rule and what its criteria mean."""
    rules = [{"framework": FRAMEWORKS[r.framework], "tier": r.tier, "label": r.label,
              "requires": [c.replace("_", " ") for c in r.requires], "note": r.note}
             for r in RULES]
    return render(request, "evidence_ratings.html", {"rules": rules, "criteria": CRITERIA})


@router.get("/evidence/{intervention_id}", include_in_schema=False)
def intervention_page(
    request: Request, intervention_id: str,
    outcome: Annotated[str | None, Query()] = None,
    method: Annotated[str, Query()] = "REML",
    hk: Annotated[bool, Query()] = False,
    place: Annotated[str | None, Query(max_length=200)] = None,
    eligible: Annotated[str | None, Query()] = None,
    share_metric: Annotated[str | None, Query()] = None,
    complement: Annotated[bool, Query()] = False,
    take_up: Annotated[float | None, Query(gt=0, le=1)] = None,
    cost: Annotated[str | None, Query()] = None,
):
    """An intervention: its ratings, studies, forest plots and pooled effects, and a form that
    projects it onto a place."""
    from upward.web.errors import ParameterError

    if method not in METHODS:
        raise ParameterError("method", f"{method!r} is not a pooling method",
                             fix=f"use one of {', '.join(METHODS)}")
    library = library_of(request).snapshot()
    try:
        detail = intervention_detail(library, intervention_id)
    except EvidenceNotFoundError as exc:
        return _not_found(request, exc)
    outcomes = detail["outcomes"]
    poolable = [o for o in outcomes if any(e["outcome"] == o and e["se"] is not None
                                           for s in detail["studies"] for e in s["effects"])]
    shown = [outcome] if outcome in outcomes else poolable[:MAX_FORESTS]
    if outcome not in outcomes and len(poolable) > MAX_FORESTS:
        problems_more = (f"{len(poolable) - MAX_FORESTS} more outcomes can be pooled: choose "
                         "one in the form below")
    else:
        problems_more = None
    pools, problems = [], []
    for i, o in enumerate(shown):
        try:
            p = pool_evidence(library, intervention_id, o, method=method, hartung_knapp=hk)
            pools.append({"pool": p, "figure": _forest_block(p, i)})
        except UpwardError as exc:
            problems.append(f"{outcomes[o]}: {exc}")
    if problems_more:
        problems.append(problems_more)
    projection = projection_error = None
    form = {"place": place or "", "eligible": eligible or "", "share_metric": share_metric or "",
            "complement": complement, "take_up": take_up, "cost": cost or "",
            "outcome": outcome or (shown[0] if shown else "")}
    if place:
        try:
            projection = _projection(
                request, intervention_id, form["outcome"], place,
                eligible=_number("eligible", eligible), share=None,
                share_metric=share_metric or None, complement=complement, take_up=take_up,
                cost=_number("cost", cost), method=method, hk=hk)
        except UpwardError as exc:
            projection_error = str(exc)
    share_metrics = _share_metrics()
    return render(request, "evidence_intervention.html", {
        "detail": detail, "pools": pools, "problems": problems, "methods": METHODS,
        "method": method, "hk": hk, "projection": projection,
        "projection_error": projection_error, "form": form, "share_metrics": share_metrics,
        "synthetic": any(s["synthetic"] for s in detail["studies"])})


def _number(name: str, text: str | None) -> float | None:
    from upward.web.errors import ParameterError

    if text is None or not text.strip():
        return None
    try:
        value = float(text.replace(",", "").replace("$", ""))
    except ValueError:
        raise ParameterError(name, f"{text!r} is not a number", fix="give a number, e.g. 5000"
                             ) from None
    if value < 0:
        raise ParameterError(name, f"{text!r} is negative", fix="give a number ≥ 0")
    return value


def _share_metrics() -> list[tuple[str, str]]:
    from upward.metrics import all_metrics

    return [(m.id, m.label) for m in all_metrics() if m.unit == "share"]


# -- from barriers to interventions ----------------------------------------------------------
def _recommendation(request: Request, geo_id: str, take_up: float | None):
    """The place and its recommendation (cached per place and take-up), or a redirect."""
    from fastapi.responses import RedirectResponse

    from upward.evidence.recommend import recommend_for
    from upward.web.api import data_of
    from upward.web.pages import _canonical

    data = data_of(request)
    geo = _canonical(data, geo_id, request)
    if isinstance(geo, RedirectResponse):
        return data, geo, None
    population = data.index()[(geo.geo_id, geo.geo_level)]["population"]
    result = data.memo(("recommend", geo.geo_id, geo.geo_level, take_up), lambda: recommend_for(
        data.barriers(geo), library_of(request), place_population=population, take_up=take_up))
    return data, geo, result


@router.get("/api/places/{geo_id}/recommend")
def api_recommend(
    request: Request, geo_id: str,
    take_up: Annotated[float | None, Query(gt=0, le=1, description="share of eligible people "
                                           "who take part (default: each study's first stage)"
                                           )] = None,
):
    """Candidate interventions for each significant barrier of a place: the pooled effect and
    its intervals, rating and why, cost, the projection for the place and a pilot size."""
    _, geo, result = _recommendation(request, geo_id, take_up)
    return geo if result is None else result.to_dict()


@router.get("/places/{geo_id}/recommend", include_in_schema=False)
def recommend_page(
    request: Request, geo_id: str,
    take_up: Annotated[str | None, Query(max_length=10)] = None,
):
    """What has worked elsewhere for this place's barriers (``upward recommend``)."""
    from upward.web.errors import ParameterError
    from upward.web.pages import _place_context

    share = _number("take_up", take_up)
    if share is not None and not 0 < share <= 1:
        raise ParameterError("take_up", f"{take_up!r} is not a share", fix="give 0.01 to 1")
    data, geo, result = _recommendation(request, geo_id, share)
    if result is None:
        return geo
    from upward.report.i18n import DEFAULT_LANGUAGE, current_language
    from upward.web.templating import finding_text

    sentences = {}
    if current_language() != DEFAULT_LANGUAGE:  # the barrier's sentence in the page's language
        report = data.barriers(geo)
        sentences = {f.metric_id: finding_text(report, f) for f in report.findings}
    return render(request, "place_recommend.html", {
        **_place_context(data, geo, "recommend"), "rec": result,
        "take_up": take_up or "", "strengths": STRENGTH_LABELS, "sentences": sentences})


#: How pages label the strength groups of ``upward.evidence.recommend``.
STRENGTH_LABELS = {"clear": N_("Favourable, interval excludes zero"),
                   "uncertain": N_("Favourable, interval includes zero"),
                   "unverified": N_("Direction not verified"),
                   "against": N_("Points the wrong way")}
