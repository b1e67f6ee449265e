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

And one pilot for every other design, so each design runs from a YAML spec on the demo:

- **First wave** (``neighbourhood_first_wave.csv``): the rollout's 8 neighbourhoods of the
  2022-Q1 wave and the 7 never treated, same rows -- a single-timing panel. Specs
  ``neighbourhood-first-wave-did.yaml`` (``did``, 2×2 with fixed effects and ``treatment_start``)
  and ``neighbourhood-first-wave-event-study.yaml`` (``event_study``); true effect 2.0 points.
- **Rental assistance** (``rental_assistance.csv``): 3,000 households scored for need; those
  at 60 or above get assistance (sharp cutoff), which lowers rent arrears six months later by
  exactly $450 for every household. Spec ``rental-assistance-rd.yaml`` (``rd``).
- **Savings coaching** (``savings_coaching.csv``): 2,400 residents who chose whether to take
  free financial coaching; take-up depends on observed characteristics only (a logit in the
  listed covariates) and coaching adds exactly $380 of savings for everyone, so the ATT and
  the ATE are both $380. Specs ``savings-coaching-{matching,ipw,aipw}.yaml``.
- **City policy** (``city_policy_panel.csv``): Demo City and 20 invented comparison cities,
  2010-2024, outcomes from two common factors with city loadings (Demo City's are a mix of
  four donors'); a 2019 city-wide policy adds exactly 1.5 points of employment. Spec
  ``city-policy-synthetic-control.yaml`` (``synthetic_control``, ``public_units: true``). The
  design has no interval, so the study carries a tolerance: within ±0.5 of the truth counts
  as recovered (across seeds 0-39 the median miss is 0.17 and 93% are within 0.5). The same
  panel by ``synthetic_did``: ``city-policy-synthetic-did.yaml`` (placebo interval).

And one pilot watched as it runs (:func:`write_monitored_pilot`, ``upward monitor --demo N``):

- **Job-search coaching** (``monitored/weekly/week-NN.csv``): 100 residents enrol each week
  for 12 planned weeks, half coached by lottery; coaching adds exactly $400 to quarterly
  earnings two quarters later for everyone. ``plan.json`` is the ``upward plan`` of 1,200
  residents and ``costs.csv`` the spending to date; each refresh of ``upward monitor`` reads the
  weeks written so far, and the confidence sequence tightens as weeks arrive.

Everything is labelled SYNTHETIC and deterministic for a seed.

Examples
--------
>>> import tempfile, pathlib
>>> m = write_pilot(pathlib.Path(tempfile.mkdtemp()))
>>> [s.name for s in m.studies][:3]
['job-training-earnings', 'job-training-employment', 'neighbourhood-rollout']
>>> sorted({s.design for s in m.studies})  # doctest: +NORMALIZE_WHITESPACE
['aipw', 'did', 'event_study', 'ipw', 'matching', 'rct', 'rd', 'staggered_did',
 'synthetic_control', 'synthetic_did']
>>> m.study("city-policy-synthetic-control").tolerance
0.5
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.atomic import atomic_write
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
    #: For a design without an interval (synthetic control): how close the estimate must be.
    tolerance: float | None = None


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


# ----------------------------------------------------------------------------------------------
# Pilots for the other designs: each recovers an effect built in exactly.
# ----------------------------------------------------------------------------------------------

FIRST_WAVE = "2022Q1"

N_HOUSEHOLDS = 3000
RENT_CUTOFF = 60.0  # need score at or above which a household gets rental assistance
RENT_EFFECT = -450.0  # dollars of rent arrears six months later, for every assisted household

N_SAVERS = 2400
COACHING_EFFECT = 380.0  # dollars of savings twelve months later, for every participant

SYNTH_YEARS = tuple(range(2010, 2025))
SYNTH_START = 2019
N_DONORS = 20
SYNTH_EFFECT = 1.5  # percentage points of prime-age employment, from 2019 on
SYNTH_NOISE = 0.15  # sd of each city-year's measurement noise
SYNTH_TOLERANCE = 0.5  # synthetic control has no interval: the estimate must be this close


def first_wave_records(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The rollout's first wave (program from 2022-Q1) and its never-treated neighbourhoods:
    a single-timing panel for ``did`` and ``event_study`` (same rows as the rollout file).

    >>> frame = first_wave_records()
    >>> frame.shape, int(frame["first_wave"].sum() // len(QUARTERS))
    ((240, 5), 8)
    """
    first = pd.Period(FIRST_WAVE, "Q").start_time.date().isoformat()
    rollout = rollout_records(seed)
    keep = rollout[rollout["program_start"].isin(["", first])].copy()
    keep.insert(2, "first_wave", keep["program_start"].eq(first).astype(int))
    return keep.reset_index(drop=True)


def rental_assistance_records(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Households scored for emergency rental assistance (sharp cutoff at a need score of 60)
    and their rent arrears six months later; assistance lowers arrears by exactly $450.

    >>> frame = rental_assistance_records()
    >>> len(frame), bool((frame["assisted"] == (frame["need_score"] >= RENT_CUTOFF)).all())
    (3000, True)
    """
    rng = np.random.default_rng([seed, 3])
    n = N_HOUSEHOLDS
    score = np.round(np.clip(rng.normal(55, 18, n), 0, 100), 3)
    size = rng.poisson(1.2 + 0.02 * score, n) + 1
    age = np.clip(np.round(rng.normal(44 - 0.08 * (score - 55), 12, n)), 18, 90).astype(int)
    assisted = (score >= RENT_CUTOFF).astype(int)
    centred = (score - RENT_CUTOFF) / 10
    arrears0 = (2400 + 160 * centred + 12 * centred ** 2 + 90 * (size - 2)
                + rng.normal(0, 480, n))
    arrears = np.maximum(arrears0 + RENT_EFFECT * assisted, 0.0)
    # The $0 floor is five standard deviations below the mean anywhere: it never changes the
    # effect, which stays exactly RENT_EFFECT for every assisted household.
    return pd.DataFrame({
        "household_id": [f"RA-{200000 + 3 * i + int(rng.integers(0, 3))}" for i in range(n)],
        "need_score": score, "assisted": assisted, "household_size": size, "age_of_head": age,
        "rent_arrears_6m": np.round(arrears, 2),
    })


def savings_coaching_records(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Residents who chose (or not) free financial coaching, with selection on observed
    characteristics only, and savings twelve months later; coaching adds exactly $380.

    >>> frame = savings_coaching_records()
    >>> len(frame), round(float(frame["coached"].mean()), 2)
    (2400, 0.38)
    """
    rng = np.random.default_rng([seed, 4])
    n = N_SAVERS
    age = rng.integers(20, 66, n)
    female = (rng.random(n) < 0.55).astype(int)
    employed = (rng.random(n) < 0.6).astype(int)
    income = np.round(np.exp(rng.normal(np.log(34), 0.45, n)), 1)  # thousands of dollars a year
    savings0 = np.round(np.exp(rng.normal(np.log(700), 0.6, n)), 0)
    index = (-1.1 + 0.025 * (age - 40) + 0.35 * female + 0.45 * employed
             + 0.03 * (income - 34) + 0.5 * (savings0 / 1000 - 0.9))
    coached = (rng.random(n) < _logistic(index)).astype(int)
    outcome = (150 + 0.9 * savings0 + 14 * (income - 34) + 6 * (age - 40) + 120 * employed
               + COACHING_EFFECT * coached + rng.normal(0, 420, n))
    return pd.DataFrame({
        "resident_id": [f"SC-{300000 + 5 * i + int(rng.integers(0, 5))}" for i in range(n)],
        "coached": coached, "age": age, "female": female, "employed": employed,
        "income_thousands": income, "savings_baseline": savings0,
        "savings_12m": np.round(outcome, 2),
    })


def donor_names() -> list[str]:
    """The invented comparison cities of the synthetic control.

    >>> donor_names()[:2], len(donor_names())
    (['Comparison City A', 'Comparison City B'], 20)
    """
    return [f"Comparison City {chr(ord('A') + i)}" for i in range(N_DONORS)]


def city_policy_records(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Demo City and 20 invented comparison cities, 2010-2024: prime-age employment rate from
    two common factors with city-specific loadings; Demo City's 2019 policy adds exactly 1.5.

    >>> frame = city_policy_records()
    >>> frame.shape, frame["city"].nunique()
    ((315, 3), 21)
    """
    rng = np.random.default_rng([seed, 5])
    years = np.array(SYNTH_YEARS)
    factors = np.column_stack([np.cumsum(rng.normal(0.3, 0.6, len(years))),
                               np.sin((years - 2010) / 2.5)])
    loadings = np.column_stack([rng.uniform(0.5, 1.5, N_DONORS), rng.uniform(-1.0, 1.0, N_DONORS)])
    levels = rng.normal(74.0, 3.0, N_DONORS)
    mix = rng.dirichlet(np.ones(4))
    peers = rng.choice(N_DONORS, 4, replace=False)  # Demo City resembles four of the donors
    treated_loading, treated_level = mix @ loadings[peers], float(mix @ levels[peers])
    names = [CITY_SHORT_NAME, *donor_names()]
    rows = []
    for k, name in enumerate(names):
        loading, level = (treated_loading, treated_level) if k == 0 else (loadings[k - 1],
                                                                        levels[k - 1])
        path = level + factors @ loading + rng.normal(0, SYNTH_NOISE, len(years))
        if k == 0:
            path = path + SYNTH_EFFECT * (years >= SYNTH_START)
        rows += [{"city": name, "year": int(y), "employment_rate": round(float(v), 3)}
                 for y, v in zip(years, path, strict=True)]
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
        **_design_specs(),
    }


def _first_wave_spec(design: str, timing: str) -> str:
    return _spec_text(
        f"name: neighbourhood-first-wave-{design.replace('_', '-')}\n"
        "description: The rollout's first wave (program from 2022-Q1) against the neighbourhoods "
        "never treated.\n"
        f"data: neighbourhood_first_wave.csv\ndesign: {design}\noutcome: employment_rate\n"
        "unit: neighbourhood\ntime: quarter\n" + timing,
        study="neighbourhood rollout, first wave",
        truth=f"{ROLLOUT_EFFECT:.1f} percentage points of employment")


def _coaching_spec(design: str, options: str) -> str:
    return _spec_text(
        f"name: savings-coaching-{design}\n"
        "description: Free financial coaching that residents chose to take up; savings twelve "
        "months later.\n"
        f"data: savings_coaching.csv\ndesign: {design}\noutcome: savings_12m\n"
        "treatment: coached\nunit: resident_id\n"
        "covariates: [age, female, employed, income_thousands, savings_baseline]\n" + options,
        study="voluntary savings coaching (selection on observed characteristics only)",
        truth=f"${COACHING_EFFECT:,.0f} for every participant (ATT = ATE)")


def _design_specs() -> dict[str, str]:
    first = pd.Period(FIRST_WAVE, "Q").start_time.date().isoformat()
    return {
        "neighbourhood-first-wave-did.yaml": _first_wave_spec(
            "did", f"treatment: first_wave\ntreatment_start: '{first}'\n"),
        "neighbourhood-first-wave-event-study.yaml": _first_wave_spec(
            "event_study", "cohort: program_start\n"),
        "rental-assistance-rd.yaml": _spec_text(
            "name: rental-assistance-rd\n"
            f"description: Emergency rental assistance for households with a need score of "
            f"{RENT_CUTOFF:g} or more; rent arrears six months later.\n"
            "data: rental_assistance.csv\ndesign: rd\noutcome: rent_arrears_6m\n"
            f"unit: household_id\nrunning: need_score\ncutoff: {RENT_CUTOFF:g}\n"
            "covariates: [household_size, age_of_head]\n"
            "options:\n  treated_side: above\n",
            study="rental assistance by need score (sharp cutoff)",
            truth=f"${RENT_EFFECT:,.0f} of arrears at the cutoff"),
        "savings-coaching-matching.yaml": _coaching_spec(
            "matching", "options:\n  estimand: ATT\n  neighbours: 4\n"),
        "savings-coaching-ipw.yaml": _coaching_spec("ipw", "options:\n  estimand: ATE\n"),
        "savings-coaching-aipw.yaml": _coaching_spec("aipw", "options:\n  estimand: ATE\n"),
        "city-policy-synthetic-control.yaml": _spec_text(
            "name: city-policy-synthetic-control\n"
            f"description: A {SYNTH_START} city-wide employment policy in {CITY_SHORT_NAME} "
            f"against {N_DONORS} comparison cities.\n"
            "data: city_policy_panel.csv\ndesign: synthetic_control\n"
            "outcome: employment_rate\nunit: city\ntime: year\n"
            f"treated_unit: {CITY_SHORT_NAME}\ntreatment_start: {SYNTH_START}\n"
            "options:\n"
            "  public_units: true   # cities are public places: names are kept, not hashed\n"
            "  outcome_lags: all    # fit every pre-period outcome: placebos are one solve each\n",
            study="a city-wide policy, against invented comparison cities,",
            truth=f"{SYNTH_EFFECT:.1f} percentage points of employment; synthetic control has "
                  f"no interval, so within ±{SYNTH_TOLERANCE:g} counts as recovered"),
        "city-policy-synthetic-did.yaml": _spec_text(
            "name: city-policy-synthetic-did\n"
            f"description: The same {SYNTH_START} policy in {CITY_SHORT_NAME} by synthetic "
            "difference-in-differences (weighted comparison cities and years, placebo "
            "standard errors).\n"
            "data: city_policy_panel.csv\ndesign: synthetic_did\n"
            "outcome: employment_rate\nunit: city\ntime: year\n"
            f"treated_unit: {CITY_SHORT_NAME}\ntreatment_start: {SYNTH_START}\n"
            "options:\n"
            "  public_units: true   # cities are public places: names are kept, not hashed\n",
            study="a city-wide policy, against invented comparison cities,",
            truth=f"{SYNTH_EFFECT:.1f} percentage points of employment"),
    }


#: The files of the pilots below, by name, and the function that makes each one's records.
DESIGN_DATA = {
    "neighbourhood_first_wave.csv": first_wave_records,
    "rental_assistance.csv": rental_assistance_records,
    "savings_coaching.csv": savings_coaching_records,
    "city_policy_panel.csv": city_policy_records,
}

#: One pilot for each design beyond the RCT and the staggered rollout:
#: (spec name, data file, design, outcome, true effect, its unit, tolerance without an interval).
DESIGN_STUDIES = (
    ("neighbourhood-first-wave-did", "neighbourhood_first_wave.csv", "did", "employment_rate",
     ROLLOUT_EFFECT, "percentage points", None),
    ("neighbourhood-first-wave-event-study", "neighbourhood_first_wave.csv", "event_study",
     "employment_rate", ROLLOUT_EFFECT, "percentage points", None),
    ("rental-assistance-rd", "rental_assistance.csv", "rd", "rent_arrears_6m", RENT_EFFECT,
     "dollars of arrears", None),
    ("savings-coaching-matching", "savings_coaching.csv", "matching", "savings_12m",
     COACHING_EFFECT, "dollars of savings", None),
    ("savings-coaching-ipw", "savings_coaching.csv", "ipw", "savings_12m", COACHING_EFFECT,
     "dollars of savings", None),
    ("savings-coaching-aipw", "savings_coaching.csv", "aipw", "savings_12m", COACHING_EFFECT,
     "dollars of savings", None),
    ("city-policy-synthetic-control", "city_policy_panel.csv", "synthetic_control",
     "employment_rate", SYNTH_EFFECT, "percentage points", SYNTH_TOLERANCE),
    ("city-policy-synthetic-did", "city_policy_panel.csv", "synthetic_did",
     "employment_rate", SYNTH_EFFECT, "percentage points", None),
)

README = """SYNTHETIC DATA - NOT REAL

These program records were generated by Upward's demo (upward.demo.pilot, seed {seed}) for
the invented "Demo City". No real person, neighbourhood or program is described. They exist so
the evaluate layer can be tried offline against effects that are known exactly:

  job_training.csv           true effect on earnings_q4: ${earnings:,.2f} per quarter;
                             on employed_q4: {employed:.2f} percentage points
  neighbourhood_rollout.csv  true effect on employment_rate: {rollout:.1f} percentage points
  neighbourhood_first_wave.csv  the rollout's first wave and never-treated neighbourhoods:
                             {rollout:.1f} percentage points (did, event_study)
  rental_assistance.csv      true effect of assistance on rent_arrears_6m at the need-score
                             cutoff {cutoff:g}: ${rent:,.0f} (rd)
  savings_coaching.csv       true effect of coaching on savings_12m: ${coaching:,.0f} for
                             every participant (matching, ipw, aipw)
  city_policy_panel.csv      true effect of {city}'s {start} policy on employment_rate:
                             {synth:.1f} percentage points (synthetic_control: within
                             ±{tolerance:g} counts as recovered, the design has no interval;
                             synthetic_did)

Run:  upward evaluate {folder}/job-training-earnings.yaml --workspace WS
"""


def write_pilot(folder: Path, *, seed: int = DEFAULT_SEED) -> PilotManifest:
    """Write the pilots' CSV files and YAML specs into ``folder`` (atomically per file).

    >>> import tempfile, pathlib
    >>> m = write_pilot(pathlib.Path(tempfile.mkdtemp()))
    >>> sorted(p.name for p in m.root.iterdir())[:2]
    ['README-SYNTHETIC.txt', 'city-policy-synthetic-control.yaml']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    training, truth = job_training_records(seed)
    rollout = rollout_records(seed)
    contents = {
        "job_training.csv": training.to_csv(index=False, lineterminator="\n"),
        "neighbourhood_rollout.csv": rollout.to_csv(index=False, lineterminator="\n"),
        **{name: make(seed).to_csv(index=False, lineterminator="\n")
           for name, make in DESIGN_DATA.items()},
        **_specs(truth),
        "README-SYNTHETIC.txt": README.format(
            seed=seed, earnings=truth["earnings_q4"], employed=100 * truth["employed_q4"],
            rollout=ROLLOUT_EFFECT, folder=folder.name, cutoff=RENT_CUTOFF, rent=RENT_EFFECT,
            coaching=COACHING_EFFECT, city=CITY_SHORT_NAME, start=SYNTH_START,
            synth=SYNTH_EFFECT, tolerance=SYNTH_TOLERANCE),
    }
    for name, text in contents.items():
        atomic_write(folder / name, text)
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
        *(PilotStudy(name, folder / f"{name}.yaml", folder / data, design, outcome, truth, unit,
                     tolerance) for name, data, design, outcome, truth, unit, tolerance
          in DESIGN_STUDIES),
    )
    return PilotManifest(folder, studies, seed)


MONITOR_FOLDER = "monitored"
MONITOR_WEEKS = 12
MONITOR_PER_WEEK = 100
MONITOR_EFFECT = 400.0  # dollars of quarterly earnings, for every participant
MONITOR_FIXED_COST = 6000.0  # dollars a week: the coaching office
MONITOR_COST_PER_COACHED = 450.0


@dataclass(frozen=True)
class MonitoredPilot:
    """What :func:`write_monitored_pilot` wrote: the spec, the weekly folder, how many weeks
    have arrived and the true effect.

    >>> MonitoredPilot(Path("s.yaml"), Path("weekly"), 3, 12, 400.0).weeks_planned
    12
    """

    spec_path: Path
    weekly: Path
    weeks: int
    weeks_planned: int
    true_effect: float


def monitored_records(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Every planned week's records of the monitored job-search pilot (all 12 weeks; a
    refresh sees those written so far). The effect is exactly ``MONITOR_EFFECT`` for everyone.

    >>> f = monitored_records()
    >>> len(f), bool(f.groupby("week")["coached"].mean().eq(0.5).all())
    (1200, True)
    """
    rng = np.random.default_rng([seed, 15])
    n = MONITOR_WEEKS * MONITOR_PER_WEEK
    week = np.repeat(np.arange(1, MONITOR_WEEKS + 1), MONITOR_PER_WEEK)
    coached = np.concatenate([rng.permutation(np.repeat([1, 0], MONITOR_PER_WEEK // 2))
                              for _ in range(MONITOR_WEEKS)])
    age = rng.integers(18, 60, n)
    worked = rng.random(n) < 0.65
    baseline = np.where(worked, rng.lognormal(np.log(3600), 0.45, n), 0.0)
    earnings0 = np.maximum(0.0, 700 + 0.75 * baseline - 8 * (age - 38) + rng.normal(0, 1100, n))
    earnings = earnings0 + MONITOR_EFFECT * coached
    ids = rng.choice(np.arange(200000, 900000), n, replace=False)
    return pd.DataFrame({
        "week": week, "participant_id": [f"JS-{i}" for i in ids], "coached": coached,
        "age": age, "earnings_baseline": np.round(baseline, 2),
        "earnings_q2": np.round(earnings, 2)})


def write_monitored_pilot(folder: Path, *, weeks: int, seed: int = DEFAULT_SEED
                          ) -> MonitoredPilot:
    """Write the monitored pilot's spec, plan, spending and its first ``weeks`` weekly files
    into ``folder`` (atomically per file; later weeks already written are removed, so the
    folder holds exactly ``weeks`` weeks).

    >>> import tempfile, pathlib
    >>> p = write_monitored_pilot(pathlib.Path(tempfile.mkdtemp()), weeks=2)
    >>> sorted(f.name for f in p.weekly.iterdir())
    ['week-01.csv', 'week-02.csv']
    """
    from upward.evaluate.power import rct_plan

    if not 1 <= weeks <= MONITOR_WEEKS:
        from upward.core.errors import ConfigError

        raise ConfigError(f"--demo {weeks}: the demo pilot has weeks 1 to {MONITOR_WEEKS}",
                          fix=f"give a number of weeks from 1 to {MONITOR_WEEKS}")
    folder = Path(folder)
    weekly = folder / "weekly"
    records = monitored_records(seed)
    for k in range(1, MONITOR_WEEKS + 1):
        path = weekly / f"week-{k:02d}.csv"
        if k <= weeks:
            part = records[records["week"] == k].drop(columns="week")
            atomic_write(path, part.to_csv(index=False, lineterminator="\n"))
        elif path.exists():
            path.unlink()
    coached = records.groupby("week")["coached"].sum()
    spent = [MONITOR_FIXED_COST + MONITOR_COST_PER_COACHED * coached[k]
             for k in range(1, weeks + 1)]
    atomic_write(folder / "costs.csv", "week,spent\n" + "".join(
        f"week-{k:02d},{v:.2f}\n" for k, v in enumerate(spent, start=1)))
    plan = rct_plan(MONITOR_WEEKS * MONITOR_PER_WEEK, sd=2000.0, r2=0.5,
                    effect=MONITOR_EFFECT, n_covariates=2)
    atomic_write(folder / "plan.json", plan.to_json())
    spec = folder / "job-search-coaching.yaml"
    atomic_write(spec, _spec_text(
        "name: job-search-coaching\n"
        "description: Job-search coaching by weekly lottery, watched as it runs; quarterly "
        "earnings two quarters after enrolment.\n"
        "data: weekly\ndesign: rct\noutcome: earnings_q2\ntreatment: coached\n"
        "unit: participant_id\ncovariates: [age, earnings_baseline]\n"
        "monitor:\n"
        "  plan: plan.json            # upward plan --design rct --n 1200 … --format json\n"
        f"  enrolment_weeks: {MONITOR_WEEKS}\n"
        "  costs: costs.csv           # dollars spent each week\n",
        study="job-search coaching (monitored)",
        truth=f"${MONITOR_EFFECT:,.0f} per quarter for every participant"))
    return MonitoredPilot(spec, weekly, weeks, MONITOR_WEEKS, MONITOR_EFFECT)
