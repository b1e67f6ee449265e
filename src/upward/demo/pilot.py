"""The demo city's synthetic pilots, with KNOWN true effects, for trying the evaluate layer.

Two studies, written as CSV files with YAML specs next to them (``upward evaluate`` reads them
as it reads any city's files):

- **Job training RCT** (``job_training.csv``): 2,000 Demo City residents, half offered a
  training program by lottery. Each resident has both potential outcomes: employment and
  quarterly earnings four quarters after random assignment without training and with it
  (training raises the odds of work and wages by a fixed amount). The *true* effects are the
  sample averages of the differences over all 2,000 residents -- exactly known, because the
  generator draws both outcomes. 8% of follow-up records in each arm are missing at random.
  Two specs: ``job-training-earnings.yaml`` (with costs and an MVPF) and
  ``job-training-employment.yaml``.
- **Neighbourhood rollout** (``neighbourhood_rollout.csv``): 30 neighbourhoods over 16
  quarters (2021-Q1 to 2024-Q4); 23 start a place-based employment program in one of three
  waves, 7 never do. Neighbourhood and quarter effects plus AR(1) noise; the program raises
  the employment rate by exactly 2.0 percentage points from its first quarter on. Dates are
  written as dates, as a city's records would. Spec: ``neighbourhood-rollout.yaml``
  (``staggered_did``).

Everything is labelled SYNTHETIC and deterministic for a seed.

Examples
--------
>>> import tempfile, pathlib
>>> m = write_pilot(pathlib.Path(tempfile.mkdtemp()))
>>> [s.name for s in m.studies]
['job-training-earnings', 'job-training-employment', 'neighbourhood-rollout']
>>> m.study("neighbourhood-rollout").true_effect
2.0
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from upward.demo.generate import CITY_SHORT_NAME

PILOT_FOLDER = "pilot"
DEFAULT_SEED = 2025

N_RESIDENTS = 2000
ATTRITION = 0.08
TRAINING_LOG_ODDS = 0.45  # training's shift of the log-odds of being employed
TRAINING_WAGE_GAIN = 0.06  # and of the wage of those who work (6%)
COST_PER_PARTICIPANT = 3200.0
# After-tax value of $1 of quarterly earnings gain, kept for 8 quarters (undiscounted): 0.85 × 8.
EARNINGS_VALUE = 6.8
FISCAL_EXTERNALITY = 650.0  # taxes on the gain and benefits no longer paid, per participant

N_NEIGHBOURHOODS = 30
QUARTERS = pd.period_range("2021Q1", "2024Q4", freq="Q")
WAVES = {"2022Q1": 8, "2022Q3": 8, "2023Q2": 7}  # program start → neighbourhoods; 7 never
ROLLOUT_EFFECT = 2.0  # percentage points of employment, from the first treated quarter on

NEIGHBOURHOOD_WORDS = ("Cedar", "Maple", "Willow", "Oak", "Elm", "Riverside", "Mill", "Railyard",
                       "Juniper", "Aspen")
NEIGHBOURHOOD_KINDS = ("Heights", "Park", "Flats")


@dataclass(frozen=True)
class PilotStudy:
    """One synthetic study: its spec, data, design and the true effect it was built with.

    >>> PilotStudy("x", Path("x.yaml"), Path("x.csv"), "rct", "y", 1.0, "dollars").design
    'rct'
    """

    name: str
    spec_path: Path
    data_path: Path
    design: str
    outcome: str
    true_effect: float
    unit: str


@dataclass(frozen=True)
class PilotManifest:
    """What :func:`write_pilot` wrote.

    >>> PilotManifest(Path("p"), (), 1).studies
    ()
    """

    root: Path
    studies: tuple[PilotStudy, ...]
    seed: int

    def study(self, name: str) -> PilotStudy:
        """The study called ``name``.

        >>> PilotManifest(Path("p"), (PilotStudy("a", Path("a"), Path("a"), "rct", "y", 1.0,
        ...                                      ""),), 1).study("a").outcome
        'y'
        """
        return next(s for s in self.studies if s.name == name)


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def job_training_records(seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, dict[str, float]]:
    """The job-training RCT's records and its true effects (sample averages over residents).

    >>> frame, truth = job_training_records()
    >>> len(frame), sorted(truth)
    (2000, ['earnings_q4', 'employed_q4'])
    """
    rng = np.random.default_rng([seed, 1])
    n = N_RESIDENTS
    age = rng.integers(18, 62, n)
    female = rng.random(n) < 0.56
    prior_employed = rng.random(n) < 0.42
    prior_earnings = np.where(prior_employed, np.exp(rng.normal(np.log(4100), 0.45, n)), 0.0)
    assigned = rng.permutation(np.repeat([1, 0], [n // 2, n - n // 2]))

    base_index = -0.35 + 1.25 * prior_employed - 0.012 * (age - 38) + 0.10 * female
    p0 = _logistic(base_index)
    p1 = _logistic(base_index + TRAINING_LOG_ODDS)
    u = rng.random(n)  # one draw per person: training never costs anyone a job
    employed0, employed1 = (u < p0).astype(int), (u < p1).astype(int)
    skill = rng.normal(0, 0.35, n)
    wage0 = np.exp(np.log(3900) + skill + 0.25 * prior_employed + 0.004 * (age - 38))
    wage1 = wage0 * (1 + TRAINING_WAGE_GAIN)
    earnings0 = np.round(employed0 * wage0, 2)
    earnings1 = np.round(employed1 * wage1, 2)

    # Attrition at random and, by construction, at the same rate in both arms.
    observed = np.ones(n, dtype=bool)
    for arm in (0, 1):
        members = np.flatnonzero(assigned == arm)
        observed[rng.choice(members, round(ATTRITION * len(members)), replace=False)] = False
    employed = np.where(assigned == 1, employed1, employed0)
    earnings = np.where(assigned == 1, earnings1, earnings0)
    frame = pd.DataFrame({
        "resident_id": [f"DC-{100000 + i * 7 + int(rng.integers(0, 7))}" for i in range(n)],
        "offered_training": assigned,
        "age": age,
        "female": female.astype(int),
        "employed_at_baseline": prior_employed.astype(int),
        "earnings_baseline": np.round(prior_earnings, 2),
        "employed_q4": pd.array(np.where(observed, employed, 0), dtype="Int64"),
        "earnings_q4": np.where(observed, earnings, np.nan),
    })
    frame.loc[~observed, "employed_q4"] = pd.NA
    truth = {"earnings_q4": round(float(np.mean(earnings1 - earnings0)), 2),
             "employed_q4": round(float(np.mean(employed1 - employed0)), 4)}
    return frame, truth


def neighbourhood_names() -> list[str]:
    """The 30 neighbourhood names of the rollout.

    >>> neighbourhood_names()[:2]
    ['Cedar Heights', 'Cedar Park']
    """
    return [f"{w} {k}" for w in NEIGHBOURHOOD_WORDS for k in NEIGHBOURHOOD_KINDS][:N_NEIGHBOURHOODS]


def rollout_records(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The neighbourhood rollout panel: one row per neighbourhood and quarter.

    >>> frame = rollout_records()
    >>> frame.shape, int(frame["program_start"].eq("").sum() // len(QUARTERS))
    ((480, 4), 7)
    """
    rng = np.random.default_rng([seed, 2])
    names = neighbourhood_names()
    starts = [start for start, count in WAVES.items() for _ in range(count)]
    starts += [None] * (N_NEIGHBOURHOODS - len(starts))
    order = rng.permutation(N_NEIGHBOURHOODS)
    start_of = {names[i]: starts[k] for k, i in enumerate(order)}
    level = rng.normal(58.0, 6.0, N_NEIGHBOURHOODS)  # employment rate, %
    trend = np.linspace(0.0, 3.0, len(QUARTERS)) + 0.6 * np.sin(np.arange(len(QUARTERS)) * np.pi / 2)
    rows = []
    for i, name in enumerate(names):
        noise = np.empty(len(QUARTERS))
        noise[0] = rng.normal(0, 0.9)
        for t in range(1, len(QUARTERS)):
            noise[t] = 0.5 * noise[t - 1] + rng.normal(0, 0.9 * np.sqrt(1 - 0.25))
        start = pd.Period(start_of[name], "Q") if start_of[name] else None
        for t, quarter in enumerate(QUARTERS):
            treated = start is not None and quarter >= start
            value = level[i] + trend[t] + noise[t] + (ROLLOUT_EFFECT if treated else 0.0)
            rows.append({"neighbourhood": name, "quarter": quarter.start_time.date().isoformat(),
                         "program_start": start.start_time.date().isoformat() if start else "",
                         "employment_rate": round(float(value), 3)})
    return pd.DataFrame(rows)


def _spec_text(body: str, *, study: str, truth: str) -> str:
    return (f"# SYNTHETIC DEMO — {study} in {CITY_SHORT_NAME}, generated by Upward "
            f"(upward.demo.pilot).\n# Not a real program or real people. True effect: {truth}.\n"
            + body)


def _specs(truth: dict[str, float]) -> dict[str, str]:
    covariates = "covariates: [age, female, employed_at_baseline, earnings_baseline]\n"
    return {
        "job-training-earnings.yaml": _spec_text(
            "name: job-training-earnings\n"
            "description: Lottery for a job-training program; quarterly earnings four quarters "
            "after assignment.\n"
            "data: job_training.csv\ndesign: rct\noutcome: earnings_q4\n"
            "treatment: offered_training\nunit: resident_id\n" + covariates
            + "options:\n  permutations: 1000\n"
            "cost:\n"
            f"  cost_per_participant: {COST_PER_PARTICIPANT:g}\n"
            f"  # after-tax value of $1 of quarterly earnings kept for 8 quarters (0.85 × 8)\n"
            f"  outcome_value: {EARNINGS_VALUE:g}\n"
            f"  fiscal_externality: {FISCAL_EXTERNALITY:g}\n",
            study="job-training lottery", truth=f"${truth['earnings_q4']:,.2f} per quarter"),
        "job-training-employment.yaml": _spec_text(
            "name: job-training-employment\n"
            "description: Lottery for a job-training program; employed four quarters after "
            "assignment.\n"
            "data: job_training.csv\ndesign: rct\noutcome: employed_q4\n"
            "treatment: offered_training\nunit: resident_id\n" + covariates
            + "options:\n  permutations: 1000\n",
            study="job-training lottery",
            truth=f"{100 * truth['employed_q4']:.2f} percentage points"),
        "neighbourhood-rollout.yaml": _spec_text(
            "name: neighbourhood-rollout\n"
            "description: A place-based employment program rolled out to neighbourhoods in "
            "three waves.\n"
            "data: neighbourhood_rollout.csv\ndesign: staggered_did\n"
            "outcome: employment_rate\nunit: neighbourhood\ntime: quarter\n"
            "cohort: program_start\n",
            study="neighbourhood rollout",
            truth=f"{ROLLOUT_EFFECT:.1f} percentage points of employment"),
    }


README = """SYNTHETIC DATA - NOT REAL

These program records were generated by Upward's demo (upward.demo.pilot, seed {seed}) for
the invented "Demo City". No real person, neighbourhood or program is described. They exist so
the evaluate layer can be tried offline against effects that are known exactly:

  job_training.csv           true effect on earnings_q4: ${earnings:,.2f} per quarter;
                             on employed_q4: {employed:.2f} percentage points
  neighbourhood_rollout.csv  true effect on employment_rate: {rollout:.1f} percentage points

Run:  upward evaluate {folder}/job-training-earnings.yaml --workspace WS
"""


def write_pilot(folder: Path, *, seed: int = DEFAULT_SEED) -> PilotManifest:
    """Write the pilots' CSV files and YAML specs into ``folder`` (atomically per file).

    >>> import tempfile, pathlib
    >>> m = write_pilot(pathlib.Path(tempfile.mkdtemp()))
    >>> sorted(p.name for p in m.root.iterdir())[:2]
    ['README-SYNTHETIC.txt', 'job-training-earnings.yaml']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    training, truth = job_training_records(seed)
    rollout = rollout_records(seed)
    contents = {
        "job_training.csv": training.to_csv(index=False, lineterminator="\n"),
        "neighbourhood_rollout.csv": rollout.to_csv(index=False, lineterminator="\n"),
        **_specs(truth),
        "README-SYNTHETIC.txt": README.format(seed=seed, earnings=truth["earnings_q4"],
                                              employed=100 * truth["employed_q4"],
                                              rollout=ROLLOUT_EFFECT, folder=folder.name),
    }
    for name, text in contents.items():
        tmp = folder / f".{name}.partial"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, folder / name)
    studies = (
        PilotStudy("job-training-earnings", folder / "job-training-earnings.yaml",
                   folder / "job_training.csv", "rct", "earnings_q4", truth["earnings_q4"],
                   "dollars per quarter"),
        PilotStudy("job-training-employment", folder / "job-training-employment.yaml",
                   folder / "job_training.csv", "rct", "employed_q4", truth["employed_q4"],
                   "share employed"),
        PilotStudy("neighbourhood-rollout", folder / "neighbourhood-rollout.yaml",
                   folder / "neighbourhood_rollout.csv", "staggered_did", "employment_rate",
                   ROLLOUT_EFFECT, "percentage points"),
    )
    return PilotManifest(folder, studies, seed)
