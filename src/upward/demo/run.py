"""``upward demo``: write the synthetic city's files into the workspace, load them through the
same connectors as real data, and build the demo city's profile.

Examples
--------
Building the whole demo city takes several seconds, so the suite builds it once
(``tests/support/built.py``) rather than here:

>>> import tempfile, pathlib
>>> from upward.warehouse.workspace import Workspace
>>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "demo")
>>> profile, results = run_demo(ws)  # doctest: +SKIP
>>> profile.geo.geo_id  # doctest: +SKIP
'9900100'
>>> DEMO_FOLDER
'demo-data'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from upward.core.errors import WorkspaceError
from upward.demo.generate import write_demo_files
from upward.demo.pilot import PILOT_FOLDER, PilotStudy, write_pilot
from upward.demo.replicates import write_demo_replicates
from upward.evaluate.result import EvaluationResult
from upward.measure.profile import Profile, profile
from upward.sources import SOURCE_NAMES
from upward.warehouse.ingest import fetch
from upward.warehouse.store import LoadResult, Warehouse
from upward.warehouse.workspace import Workspace

DEMO_FOLDER = "demo-data"


def run_demo(workspace: Workspace, *, seed: int = 2024) -> tuple[Profile, list[LoadResult]]:
    """Generate, load and profile the demo city in ``workspace``.

    Refuses a workspace that already holds real (non-demo) data, which the demo's datasets
    would replace.
    """
    folder = workspace.root / DEMO_FOLDER
    if workspace.warehouse_path.exists():
        with Warehouse(workspace.warehouse_path, read_only=True) as wh:
            src = wh.sources()
        real = src[~src["url"].str.contains(f"/{DEMO_FOLDER}/", regex=False)]
        if len(real):
            raise WorkspaceError(
                f"{workspace.root} already holds real data ({', '.join(real['dataset'][:3])} …); "
                "the demo would replace it",
                fix="run the demo in its own workspace: upward demo --workspace demo-ws",
            )
    manifest = write_demo_files(folder, seed=seed)
    write_demo_replicates(folder, seed=seed)  # replicate tables + districts for `upward areas`
    results = fetch(workspace, list(SOURCE_NAMES), from_dir=folder)
    # PUMS files in the Census layouts (upward microdata estimate … runs on them offline).
    from upward.demo.pums import write_demo_pums
    from upward.warehouse.microdata import fetch_pums

    write_demo_pums(folder, seed=seed)
    fetch_pums(workspace, from_dir=folder)
    return profile(manifest.city_geo_id, workspace=workspace), results


@dataclass(frozen=True)
class PilotEvaluation:
    """One demo pilot evaluated: the study (with its true effect), the result and whether the
    confidence interval covers the truth. ``result`` is None when the study's design is not
    available (``skipped`` says why).

    >>> PilotEvaluation(PilotStudy("x", Path("x"), Path("x"), "rct", "y", 1.0, ""), None,
    ...                 None, "no design").covers
    """

    study: PilotStudy
    result: EvaluationResult | None
    saved_to: Path | None
    skipped: str | None = None

    @property
    def covers(self) -> bool | None:
        """Whether the interval contains the true effect (None without an interval).

        >>> PilotEvaluation(PilotStudy("x", Path("x"), Path("x"), "rct", "y", 1.0, ""),
        ...     EvaluationResult("rct", "m", "y", "ATE", 1.1, 0.1, 0.9, 1.3, 0.01, 10), None).covers
        True
        """
        r = self.result
        if r is None or r.ci_low is None or r.ci_high is None:
            return None
        return bool(r.ci_low <= self.study.true_effect <= r.ci_high)

    @property
    def within_tolerance(self) -> bool | None:
        """Whether the estimate is within the study's stated tolerance of the true effect
        (None when the study states none: designs with an interval use :attr:`covers`).

        >>> study = PilotStudy("x", Path("x"), Path("x"), "synthetic_control", "y", 1.5, "",
        ...                    tolerance=0.5)
        >>> PilotEvaluation(study, EvaluationResult("synthetic_control", "m", "y", "ATT", 1.7,
        ...     None, None, None, 0.05, 10), None).within_tolerance
        True
        """
        if self.result is None or self.study.tolerance is None:
            return None
        return bool(abs(self.result.estimate - self.study.true_effect) <= self.study.tolerance)

    @property
    def recovered(self) -> bool | None:
        """Whether the evaluation recovered the truth: the interval covers it, or, for a design
        without an interval, the estimate is within the stated tolerance.

        >>> PilotEvaluation(PilotStudy("x", Path("x"), Path("x"), "rct", "y", 1.0, ""),
        ...     EvaluationResult("rct", "m", "y", "ATE", 1.1, 0.1, 0.9, 1.3, 0.01, 10), None
        ...     ).recovered
        True
        """
        return self.covers if self.covers is not None else self.within_tolerance

    @property
    def verdict(self) -> str:
        """The sentence the demo prints after the true effect: whether the interval covers
        it, or, without an interval, whether the estimate is within the tolerance.

        >>> study = PilotStudy("x", Path("x"), Path("x"), "synthetic_control", "y", 1.5, "",
        ...                    tolerance=0.5)
        >>> PilotEvaluation(study, EvaluationResult("synthetic_control", "m", "y", "ATT", 1.7,
        ...     None, None, None, 0.05, 10), None).verdict
        'no confidence interval (synthetic_control); the estimate is within ±0.5 of it: yes'
        """
        word = {True: "yes", False: "NO", None: "no interval"}
        if self.result is None:
            return f"skipped ({self.skipped})"
        if self.covers is not None or self.study.tolerance is None:
            level = round(100 * (1 - self.result.alpha))
            return f"the {level}% CI covers it: {word[self.covers]}"
        return (f"no confidence interval ({self.study.design}); the estimate is within "
                f"±{self.study.tolerance:g} of it: {word[self.within_tolerance]}")


def run_demo_pilot(workspace: Workspace) -> list[PilotEvaluation]:
    """Write the demo's synthetic pilots (known true effects; one or more for every design)
    into ``demo-data/pilot/`` and evaluate each one whose design is available; results are
    saved in the workspace.

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "demo")
    >>> [e.covers for e in run_demo_pilot(ws)][0]  # doctest: +SKIP
    True
    """
    from upward.evaluate.designs import DESIGNS
    from upward.evaluate.run import run_evaluation

    manifest = write_pilot(workspace.root / DEMO_FOLDER / PILOT_FOLDER)
    evaluations = []
    for study in manifest.studies:
        if study.design not in DESIGNS:
            evaluations.append(PilotEvaluation(study, None, None,
                                               f"design {study.design!r} is not available"))
            continue
        run = run_evaluation(study.spec_path, workspace)
        evaluations.append(PilotEvaluation(study, run.result, run.saved_to))
    return evaluations
