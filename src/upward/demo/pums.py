"""Synthetic PUMS files for the demo city, in exactly the Census layouts, with known truth.

A finite population of households and persons is generated for the demo county (state 99,
county 99001, four PUMAs, the city ``9900100`` holding two whole PUMAs and part of a third);
a sample of households is drawn within each PUMA in random order (about 1 in 40), and its 80
replicate weights are made the way the Census Bureau makes them, by successive differences:
unit *i* gets the factor ``1 + 2^-1.5 (H[a_i, r] − H[b_i, r])`` with ``a_i, b_i`` successive rows
of an 80 × 80 Hadamard matrix (American Community Survey Design and Methodology, ch. 12).

The files written, under ``DIR/pums`` and ``DIR/crosswalks``:
``csv_pzz.zip`` (``psam_p99.csv``), ``csv_hzz.zip`` (``psam_h99.csv``) — the 2023 5-year layout
(2020 PUMAs, ``TYPEHUGQ``, ``ACCESSINET``); ``2020_Census_Tract_to_2020_PUMA.csv`` for state 99;
``tract_population_99.csv`` (``GEOID,NAME,population,place``: the people of each tract and the
place holding it). :func:`population_values` gives the true values the estimates aim at.

Examples
--------
>>> h = hadamard80()
>>> bool((h @ h.T == 80 * np.eye(80)).all())
True
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from upward.estimate.sdr import N_REPLICATES

STATE = "99"
COUNTY = "99001"
CITY = "9900100"
YEAR, SPAN = 2023, 5
#: PUMA code → (city tracts, ring tracts) it holds; the city is PUMAs 00101, 00102 and part of 00103.
PUMAS = {"00101": (range(1, 21), ()), "00102": (range(21, 41), ()),
         "00103": (range(41, 61), range(101, 119)), "00104": ((), range(119, 137))}
#: Per-PUMA model (employment rate 25-54, median household income, broadband share).
PUMA_MODEL = {"00101": (0.70, 38_000, 0.72), "00102": (0.76, 52_000, 0.80),
              "00103": (0.80, 64_000, 0.85), "00104": (0.84, 78_000, 0.90)}
RACE_MIX = {"00101": (0.45, 0.18, 0.30), "00102": (0.32, 0.14, 0.46),
            "00103": (0.18, 0.10, 0.64), "00104": (0.08, 0.08, 0.78)}  # black, hispanic, white
SAMPLING_RATE = 1 / 40
ADJINC = 1_019_518  # an inflation factor of the size the Census publishes (scaled by 10⁶)
ADJHSG = 1_000_000


def hadamard80() -> np.ndarray:
    """An 80 × 80 Hadamard matrix: Sylvester's order 4 ⊗ Paley's order 20 (q = 19).

    >>> hadamard80().shape
    (80, 80)
    """
    q = 19
    squares = {(i * i) % q for i in range(1, q)}
    chi = np.array([0] + [1 if k in squares else -1 for k in range(1, q)])
    jac = np.array([[chi[(j - i) % q] for j in range(q)] for i in range(q)])
    s = np.zeros((q + 1, q + 1), dtype=int)
    s[0, 1:] = 1
    s[1:, 0] = -1
    s[1:, 1:] = jac
    h20 = np.eye(q + 1, dtype=int) + s
    h2 = np.array([[1, 1], [1, -1]])
    return np.kron(np.kron(h2, h2), h20)


def _tract(k: int) -> str:
    suffix = "01" if k <= 60 and k % 7 == 0 else "00"
    return f"{COUNTY}{k:04d}{suffix}"


@dataclass(frozen=True)
class DemoPopulation:
    """The finite population: persons and households with their tract, PUMA and place.

    >>> pop = population()
    >>> list(pop.tracts.columns), len(pop.persons) > len(pop.households)
    (['tract', 'puma', 'population', 'place'], True)
    """

    persons: pd.DataFrame
    households: pd.DataFrame
    tracts: pd.DataFrame


@cache
def population(seed: int = 2024) -> DemoPopulation:
    """Generate the demo county's finite population (deterministic for a seed).

    >>> pop = population()
    >>> int(pop.tracts.population.sum()) == len(pop.persons)
    True
    """
    rng = np.random.default_rng(seed)
    tract_rows, hh_parts, person_parts = [], [], []
    serial = 0
    for puma, (city, ring) in PUMAS.items():
        emp, med_income, broadband = PUMA_MODEL[puma]
        black, hisp, white = RACE_MIX[puma]
        for k in [*city, *ring]:
            n_hh = int(rng.integers(900, 1700))
            size = 1 + rng.poisson(1.4, n_hh)
            ids = np.arange(serial, serial + n_hh)
            serial += n_hh
            income = np.round(med_income * np.exp(rng.normal(0, 0.8, n_hh)), -2)
            owner = rng.random(n_hh) < (0.35 + med_income / 200_000)
            hh_parts.append(pd.DataFrame({
                "hid": ids, "tract": _tract(k), "puma": puma, "NP": size,
                "HINCP": income, "TEN": np.where(owner, 1, 3),
                "HISPEED": np.where(rng.random(n_hh) < broadband, 1, 2),
                "ACCESSINET": 1,
                "GRPIP": np.where(owner, 0, np.clip(rng.normal(32, 14, n_hh), 1, 101).round()),
                "OCPIP": np.where(owner, np.clip(rng.normal(22, 10, n_hh), 1, 101).round(), 0),
            }))
            n_p = int(size.sum())
            hid = np.repeat(ids, size)
            order = np.concatenate([np.arange(s) + 1 for s in size])
            age = np.where(order == 1, rng.integers(20, 90, n_p), rng.integers(0, 90, n_p))
            u = rng.random(n_p)
            race_u = np.repeat(rng.random(n_hh), size)  # households share a race
            person_parts.append(pd.DataFrame({
                "hid": hid, "SPORDER": order, "AGEP": age, "SEX": 1 + (u < 0.51),
                "HISP": np.where((race_u >= black) & (race_u < black + hisp), 2, 1),
                "RAC1P": np.select([race_u < black, race_u >= black + hisp + white,
                                    race_u >= black + hisp], [2, 6, 1], 8),
                "ESR": np.where(age < 16, 0, np.where(rng.random(n_p) < emp, 1, 6)),
                "SCHL": np.where(age >= 19, np.where(rng.random(n_p) < 0.88, 16, 12),
                                 np.clip(age - 3, 1, 15)),
                "SCHG": np.where((age >= 3) & (age <= 4) & (rng.random(n_p) < 0.5), 1, 0),
                "DIS": np.where(rng.random(n_p) < 0.13, 1, 2),
            }))
            tract_rows.append((_tract(k), puma, n_p, CITY if k <= 60 else ""))
    households = pd.concat(hh_parts, ignore_index=True)
    persons = pd.concat(person_parts, ignore_index=True)
    tracts = pd.DataFrame(tract_rows, columns=["tract", "puma", "population", "place"])
    return DemoPopulation(persons, households, tracts)


def draw_sample(pop: DemoPopulation, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One PUMS-like sample: the psam person and housing tables (Census column layout).

    >>> p, h = draw_sample(population(), 1)
    >>> list(h.columns[:4]), "PWGTP80" in p.columns
    (['RT', 'SERIALNO', 'DIVISION', 'PUMA'], True)
    """
    rng = np.random.default_rng(seed)
    hh = pop.households
    pick = rng.random(len(hh)) < SAMPLING_RATE
    s = hh[pick].copy()
    s["_u"] = rng.random(len(s))
    s = s.sort_values(["puma", "_u"]).reset_index(drop=True)
    h = hadamard80()
    i = np.arange(len(s))
    a, b = (i % N_REPLICATES), ((i + 1) % N_REPLICATES)
    factors = 1 + 2 ** -1.5 * (h[a] - h[b])  # (n, 80)
    base = np.full(len(s), 1 / SAMPLING_RATE)
    s["SERIALNO"] = [f"{YEAR}HU{n:07d}" for n in range(1, len(s) + 1)]
    housing = pd.DataFrame({"RT": "H", "SERIALNO": s["SERIALNO"], "DIVISION": 0,
                            "PUMA": s["puma"], "REGION": 0, "ST": STATE, "ADJHSG": ADJHSG,
                            "ADJINC": ADJINC, "WGTP": base.round().astype(int), "NP": s["NP"],
                            "TYPEHUGQ": 1, "ACCESSINET": s["ACCESSINET"], "HISPEED": s["HISPEED"],
                            "TEN": s["TEN"], "GRPIP": s["GRPIP"].astype(int),
                            "OCPIP": s["OCPIP"].astype(int),
                            "HINCP": np.round(s["HINCP"] / (ADJINC / 1e6)).astype(int)})
    reps = np.round(base[:, None] * factors).astype(int)
    housing = pd.concat([housing, pd.DataFrame(reps, columns=[f"WGTP{r}" for r in range(1, 81)])],
                        axis=1)
    per = pop.persons.merge(s[["hid", "SERIALNO", "puma"]], on="hid", how="inner")
    row = s.set_index("hid").index.get_indexer(per["hid"])
    person = pd.DataFrame({"RT": "P", "SERIALNO": per["SERIALNO"], "DIVISION": 0,
                           "SPORDER": per["SPORDER"], "PUMA": per["puma"], "REGION": 0,
                           "ST": STATE, "ADJINC": ADJINC, "PWGTP": base[row].round().astype(int),
                           "AGEP": per["AGEP"], "SEX": per["SEX"], "SCHG": per["SCHG"],
                           "SCHL": per["SCHL"], "DIS": per["DIS"], "ESR": per["ESR"],
                           "HISP": per["HISP"], "RAC1P": per["RAC1P"]})
    person["SCH"] = np.where(person["SCHG"] == 1, 2, 1)
    preps = reps[row]
    person = pd.concat([person, pd.DataFrame(preps, columns=[f"PWGTP{r}" for r in range(1, 81)])],
                       axis=1)
    for frame in (person, housing):
        for col in ("ESR", "SCHG", "GRPIP", "OCPIP"):
            if col in frame.columns:
                frame[col] = frame[col].astype("Int64").where(frame[col] != 0)
    return person, housing


def _csv(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode()


def _zip(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(member, date_time=(2024, 10, 17, 0, 0, 0))
        zf.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def write_demo_pums(out_dir: Path, *, seed: int = 2024) -> list[Path]:
    """Write the demo PUMS zips, the tract-to-PUMA file and tract populations under ``out_dir``.

    >>> import tempfile
    >>> paths = write_demo_pums(Path(tempfile.mkdtemp()))
    >>> sorted(p.name for p in paths)[:2]
    ['2020_Census_Tract_to_2020_PUMA.csv', 'csv_hzz.zip']
    """
    pop = population(seed)
    person, housing = draw_sample(pop, seed + 1)
    t = pop.tracts
    relation = pd.DataFrame({"STATEFP": STATE, "COUNTYFP": t["tract"].str[2:5],
                             "TRACTCE": t["tract"].str[5:], "PUMA5CE": t["puma"]})
    tract_pop = pd.DataFrame({"GEOID": t["tract"], "population": t["population"],
                              "place": t["place"]})
    files = {
        "pums/csv_pzz.zip": _zip(f"psam_p{STATE}.csv", _csv(person)),
        "pums/csv_hzz.zip": _zip(f"psam_h{STATE}.csv", _csv(housing)),
        "crosswalks/2020_Census_Tract_to_2020_PUMA.csv": b"\xef\xbb\xbf" + _csv(relation),
        f"crosswalks/tract_population_{STATE}.csv": _csv(tract_pop),
    }
    written = []
    for rel, data in files.items():
        path = Path(out_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        written.append(path)
    return written


def population_values(seed: int = 2024) -> pd.DataFrame:
    """The true values of the demo metrics for the county, each PUMA and the city.

    >>> v = population_values()
    >>> 0.6 < float(v.query("geo_id == '99001' and metric_id == 'share_employed'").value.iloc[0]) < 0.9
    True
    """
    pop = population(seed)
    p = pop.persons.merge(pop.households[["hid", "tract", "puma", "HISPEED"]], on="hid")
    h = pop.households
    rows = []
    groups = {COUNTY: (p, h)}
    for puma in PUMAS:
        groups[STATE + puma] = (p[p.puma == puma], h[h.puma == puma])
    city_tracts = set(pop.tracts.loc[pop.tracts.place == CITY, "tract"])
    groups[CITY] = (p[p.tract.isin(city_tracts)], h[h.tract.isin(city_tracts)])
    for geo, (pp, hh) in groups.items():
        adults = pp[(pp.AGEP >= 25) & (pp.AGEP <= 54)]
        rows.append((geo, "share_employed", float((adults.ESR == 1).mean())))
        rows.append((geo, "share_digital_access", float((pp.HISPEED == 1).mean())))
        young = pp[(pp.AGEP >= 19) & (pp.AGEP <= 20)]
        rows.append((geo, "share_hs_degree", float((young.SCHL >= 16).mean())))
        inc = np.sort(hh.HINCP.to_numpy())
        for q in (20, 50, 80):
            k = int(np.ceil(q / 100 * len(inc))) - 1
            rows.append((geo, f"pctl_income_{q}", float(inc[k])))
    return pd.DataFrame(rows, columns=["geo_id", "metric_id", "value"])
