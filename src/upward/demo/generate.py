"""Write the synthetic demo city: every publisher file, in the publisher's own format.

The demo city, "Demo City city" (place ``9900100``) in "Demo County (synthetic)" (county
``99001``), lives in state FIPS 99, a code the Census Bureau never assigns, so nothing here can be
mistaken for, or joined to, a real place. :func:`write_demo_files` writes a folder laid out like
``../shared/data`` (same relative paths, file names, headers, value formats, quirks), so the same
``--from DIR`` loaders read it: 41 places (the city and 40 peers), 61 counties, 96 tracts with
polygons (the city's 60 and a ring of 36 suburban ones), 48 ZIP codes, 21 commuting zones.

How values are made
-------------------
Each column's values are drawn from its distribution in the real file: the 5th, 25th, 50th, 75th
and 95th percentiles, read off the real files once and hard-coded in the tables below (the
generator never needs the real data). Each geography has a latent *advantage*; a metric with
``sign=+1`` rises with it, ``-1`` falls, ``0`` is unrelated, so metrics correlate the way a
driver analysis expects. The demo city is placed by hand on a few metrics
(:data:`DEMO_CITY_POSITIONS`: weak on low incomes and concentrated poverty, strong on preschool,
learning and associations), has two clear trends in the longitudinal file
(:data:`DEMO_CITY_TRENDS`), and its tracts are poorer on the east side, so neighbourhood
clustering (Moran's I) has something to find.

Examples
--------
>>> import tempfile, pathlib
>>> m = write_demo_files(pathlib.Path(tempfile.mkdtemp()) / "demo")
>>> m.city_geo_id, m.county_geo_id, m.city_name
('9900100', '99001', 'Demo City city')
>>> (m.root / "urban" / "mobility-metrics_place_recent.csv").exists()
True
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from upward.core.atomic import atomic_write
from upward.core.errors import ConfigError
from upward.geo.states import DEMO_STATE

# ----------------------------------------------------------------------------------------------
# The synthetic geography
# ----------------------------------------------------------------------------------------------

STATE_FIPS = DEMO_STATE.fips  # "99": never assigned by the Census Bureau
STATE_ABBR = DEMO_STATE.abbr  # "ZZ"
STATE_NAME = DEMO_STATE.name  # "Demo State (synthetic)"

CITY_PLACE = "00100"
CITY_GEO_ID = STATE_FIPS + CITY_PLACE
CITY_NAME = "Demo City city"
CITY_SHORT_NAME = "Demo City"
COUNTY_CODE = "001"
COUNTY_GEO_ID = STATE_FIPS + COUNTY_CODE
COUNTY_NAME = "Demo County (synthetic)"

N_PEER_PLACES = 40  # "Peerville 01 city" … in "Peer County 01 (synthetic)" …
N_PEER_COUNTIES = 60
COUNTIES_PER_CZ = 3

YEARS = tuple(range(2014, 2024))
ACS_YEARS = tuple(y for y in YEARS if y != 2020)  # the publisher has no 2020 ACS values
FIVE_YEAR_ACS = (2014, 2016, 2018, 2021, 2023)  # non-overlapping 5-year ACS releases
DEFAULT_SEED = 2024

# File names, exactly as under ../shared/data.
PLACE_RECENT = "urban/mobility-metrics_place_recent.csv"
COUNTY_RECENT = "urban/mobility-metrics_county_recent.csv"
PLACE_LONGITUDINAL = "urban/mobility-metrics_place_longitudinal.csv"
COUNTY_OUTCOMES = "opportunity-insights/county_outcomes_simple.csv"
SOCIAL_CAPITAL_COUNTY = "opportunity-insights/social_capital_county.csv"
SOCIAL_CAPITAL_ZIP = "opportunity-insights/social_capital_zip.csv"
TRACT_KFR = "opportunity-insights/tract_kfr_rP_gP_p25.csv"
TRACT_TOP20 = "opportunity-insights/tract_kfr_top20_rP_gP_p25.csv"
TRACT_COLLAPSE = "opportunity-insights/tract_collapse.csv"
TRACT_COVARIATES = "opportunity-insights/tract_covariates.csv"
CZ_CROSSWALK = "opportunity-insights/cz_county_crosswalk.csv"
NATIONAL_COLLAPSE = "opportunity-insights/national_collapse.csv"
TRACT_GEOMETRY = f"geometry/cb_2018_{STATE_FIPS}_tract_500k.geojson"
README = "README-SYNTHETIC.txt"

#: Every file :func:`write_demo_files` writes, in the order it writes them.
DEMO_FILES = (
    PLACE_RECENT, COUNTY_RECENT, PLACE_LONGITUDINAL, COUNTY_OUTCOMES, SOCIAL_CAPITAL_COUNTY,
    SOCIAL_CAPITAL_ZIP, TRACT_KFR, TRACT_TOP20, TRACT_COLLAPSE, TRACT_COVARIATES, CZ_CROSSWALK,
    NATIONAL_COLLAPSE, TRACT_GEOMETRY, README,
)  # fmt: skip


@dataclass(frozen=True)
class DemoManifest:
    """What :func:`write_demo_files` wrote.

    Attributes
    ----------
    root : Path
        The folder, laid out like ``../shared/data``.
    city_geo_id, county_geo_id : str
        The demo city's place GEOID (``"9900100"``) and its county's (``"99001"``).
    city_name : str
        ``"Demo City city"``, as the Urban Institute files name places.
    files : tuple of Path
        Every file written, in :data:`DEMO_FILES` order.
    seed : int
        The seed; the same seed gives byte-identical files.

    Examples
    --------
    >>> m = DemoManifest(Path("d"), "9900100", "99001", "Demo City city", (), 2024)
    >>> m.city_geo_id
    '9900100'
    """

    root: Path
    city_geo_id: str
    county_geo_id: str
    city_name: str
    files: tuple[Path, ...]
    seed: int


# ----------------------------------------------------------------------------------------------
# How each column is drawn: one declarative table per file, derived once from the real files
# ----------------------------------------------------------------------------------------------

INF = math.inf


@dataclass(frozen=True)
class Range:
    """How one column's values are drawn.

    Attributes
    ----------
    q : tuple of 5 floats, or None
        5th, 25th, 50th, 75th and 95th percentile of the column in the real file (None for
        ``kind="derived"`` columns).
    sign : int
        +1 the metric rises with a geography's advantage, -1 it falls, 0 unrelated.
    fmt : str
        How the publisher writes it: ``"full"`` (shortest round-trip digits), ``"Ndp"`` (rounded
        to N decimals), ``"Nsig"`` (N significant digits), either followed by ``32`` when the
        publisher kept a 32-bit float (``0.74313003``), ``"int"``, ``"per1"`` (``"2235:1"``).
    ci : float
        Median relative half-width of the 95% interval, when the file gives ``_lb``/``_ub``.
    quality : tuple of 3 floats
        Shares of quality 1, 2, 3 (Strong, Marginal, Weak) in the real file.
    group : str
        Columns that share one quality value (one quality column, or one survey); default: the
        column itself.
    lo, hi : float
        Physical limits of the value.
    years : tuple of int
        Longitudinal file only: the years the publisher has the metric.
    kind : str
        ``"draw"`` (from ``q``), ``"se"`` (a standard error: the median ``q[2]`` shrunk with
        the square root of the population), ``"derived"`` (computed from other values).
    bound_fmt : str
        Format of the bounds when it differs from ``fmt``.

    Examples
    --------
    >>> Range((1.0, 2.0, 3.0, 4.0, 5.0), +1).draw(0.5)
    3.0
    """

    q: tuple[float, float, float, float, float] | None
    sign: int = 0
    fmt: str = "full"
    ci: float = 0.0
    quality: tuple[float, float, float] = (1.0, 0.0, 0.0)
    group: str = ""
    lo: float = 0.0
    hi: float = INF
    years: tuple[int, ...] = ACS_YEARS
    kind: str = "draw"
    bound_fmt: str = ""

    def draw(self, u: float) -> float:
        """The value at score ``u`` in [0, 1]: linear between the percentiles, extended a
        quarter of the neighbouring step beyond the 5th and 95th, clipped to ``lo``/``hi``.

        >>> Range((0.0, 0.0, 0.1, 0.2, 0.4), hi=1.0).draw(0.99) <= 1.0
        True
        """
        assert self.q is not None
        q05, q25, q50, q75, q95 = self.q
        knots_v = (q05 - (q25 - q05) / 4, q05, q25, q50, q75, q95, q95 + (q95 - q75) / 4)
        value = float(np.interp(u, (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0), knots_v))
        # An estimate that has bounds must sit strictly inside its limits.
        top = self.hi - 1e-3 if self.ci and self.hi < INF else self.hi
        return min(max(value, self.lo), top)


R = Range  # short name for the tables
SHARE = {"hi": 1.0}
NO_BOUND = {"lo": -INF}

#: The Urban Institute files: one entry per value column (bounds and quality columns follow
#: from it). q = 5/25/50/75/95th percentiles in the real file.
URBAN: dict[str, dict[str, Range]] = {
    PLACE_RECENT: {
        "share_in_preschool": R((0.1621, 0.2827, 0.3789, 0.4965, 0.6305), +1, quality=(0.40, 0.44, 0.16), **SHARE),
        "rate_learning": R((0.7767, 0.9053, 0.9941, 1.089, 1.26), +1, "8sig", ci=0.137, quality=(0.84, 0.08, 0.08)),
        "meps20_black": R((0.0, 0.1647, 0.4776, 0.7497, 0.9673), -1, "8sig", **SHARE),
        "meps20_hispanic": R((0.0, 0.1948, 0.4691, 0.7561, 0.9608), -1, "8sig", **SHARE),
        "meps20_white": R((0.0, 0.05797, 0.191, 0.4384, 0.9031), -1, "8sig", **SHARE),
        "share_hs_degree": R((0.7716, 0.8698, 0.9211, 0.961, 0.9996), +1, quality=(0.43, 0.47, 0.10), **SHARE),
        "share_digital_access": R((0.7843, 0.8506, 0.8962, 0.9305, 0.9599), +1, **SHARE),
        "pctl_income_20": R((16470.0, 24090.0, 30440.0, 38070.0, 51430.0), +1, group="pctl", quality=(0.21, 0.53, 0.26)),
        "pctl_income_50": R((45300.0, 57670.0, 70070.0, 87050.0, 115100.0), +1, group="pctl", quality=(0.21, 0.53, 0.26)),
        "pctl_income_80": R((93740.0, 114100.0, 134000.0, 164800.0, 226700.0), +1, group="pctl", quality=(0.21, 0.53, 0.26)),
        "share_debt_col": R((0.1602, 0.2528, 0.3245, 0.3986, 0.4993), -1, "5dp", **SHARE),
        "ratio_black_nh_house_value_households": R(None, kind="derived", quality=(0.17, 0.28, 0.55)),
        "ratio_hispanic_house_value_households": R(None, kind="derived", quality=(0.16, 0.37, 0.47)),
        "ratio_other_nh_house_value_households": R(None, kind="derived", quality=(0.18, 0.39, 0.43)),
        "ratio_white_nh_house_value_households": R(None, kind="derived", quality=(0.21, 0.43, 0.36)),
        "count_homeless": R(None, fmt="int", kind="derived", group="homeless", quality=(0.99, 0.0, 0.01)),
        "share_homeless": R((0.003999, 0.01432, 0.02267, 0.03866, 0.08758), -1, "8sig", group="homeless", quality=(0.99, 0.0, 0.01), **SHARE),
        "share_affordable_80_ami": R((1.129, 1.338, 1.475, 1.649, 1.922), group="affordable", quality=(0.45, 0.51, 0.04)),
        "share_affordable_50_ami": R((0.8532, 1.036, 1.251, 1.524, 1.913), group="affordable"),
        "share_affordable_30_ami": R((0.5912, 0.8235, 1.053, 1.343, 1.889), group="affordable"),
        "share_election_turnout": R((0.4605, 0.5658, 0.6442, 0.7187, 0.8255), +1, quality=(0.84, 0.09, 0.07), **SHARE),
        "share_desc_rep_asian_other": R(None, kind="derived"),
        "share_desc_rep_black_nonhispanic": R(None, kind="derived"),
        "share_desc_rep_hispanic": R(None, kind="derived"),
        "share_desc_rep_white_nonhispanic": R(None, kind="derived"),
        "share_poverty_exposure": R((0.0, 0.0, 0.0, 0.1271, 0.3957), -1, quality=(0.93, 0.07, 0.0), **SHARE),
        "share_black_nh_exposure": R((0.3242, 0.68, 0.8626, 0.9392, 0.9762), quality=(0.91, 0.08, 0.01), **SHARE),
        "share_hispanic_exposure": R((0.2676, 0.5263, 0.7203, 0.8559, 0.9371), **SHARE),
        "share_other_nh_exposure": R((0.5975, 0.8084, 0.8687, 0.9071, 0.9394), quality=(0.98, 0.01, 0.01), **SHARE),
        "share_white_nh_exposure": R((0.1919, 0.3116, 0.419, 0.5698, 0.841), **SHARE),
        "index_air_quality": R((4.0, 19.5, 39.0, 55.0, 76.0), fmt="int", hi=100.0),
        "ratio_high_low_ses_fb_friends": R((0.5801, 0.7165, 0.8483, 0.9948, 1.248), +1, quality=(0.03, 0.22, 0.75)),
        "count_membership_associations_per_10k": R((0.3, 0.9, 1.6, 2.6, 4.6), +1, "1dp", quality=(0.32, 0.68, 0.0)),
        "rate_juv_arrest": R((85.1, 468.4, 1031.0, 1907.0, 3727.0), -1, quality=(0.64, 0.27, 0.09)),
        "rate_violent_crime": R((59.96, 738.6, 1241.0, 1933.0, 2951.0), -1, group="crime", quality=(0.67, 0.24, 0.09)),
        "rate_property_crime": R((113.7, 2222.0, 3435.0, 5295.0, 8126.0), -1, group="crime"),
        "share_employed": R((0.7035, 0.7608, 0.7968, 0.8226, 0.8574), +1, quality=(0.21, 0.53, 0.26), **SHARE),
    },
    COUNTY_RECENT: {
        "share_in_preschool": R((0.1558, 0.2719, 0.3657, 0.4564, 0.5929), +1, "5dp", quality=(0.13, 0.51, 0.36), **SHARE),
        "rate_learning": R((0.6947, 0.8651, 0.9551, 1.054, 1.228), +1, "8sig", ci=0.204, quality=(0.83, 0.06, 0.11)),
        "meps20_black": R((0.0, 0.04185, 0.4167, 0.758, 1.0), -1, "8sig", quality=(0.68, 0.11, 0.21), **SHARE),
        "meps20_hispanic": R((0.0, 0.064, 0.4055, 0.7247, 1.0), -1, "8sig", quality=(0.87, 0.06, 0.07), **SHARE),
        "meps20_white": R((0.0, 0.03487, 0.2562, 0.6088, 1.0), -1, "8sig", quality=(0.99, 0.01, 0.0), **SHARE),
        "share_hs_degree": R((0.7154, 0.8577, 0.9191, 0.9645, 1.0), +1, "5dp", quality=(0.15, 0.56, 0.29), **SHARE),
        "share_digital_access": R((0.6615, 0.7849, 0.8362, 0.8756, 0.9218), +1, quality=(0.98, 0.02, 0.0), **SHARE),
        "pctl_income_20": R((15260.0, 20450.0, 24470.0, 28780.0, 39120.0), +1, group="pctl", quality=(0.18, 0.14, 0.68)),
        "pctl_income_50": R((40840.0, 50420.0, 58170.0, 65900.0, 86500.0), +1, group="pctl"),
        "pctl_income_80": R((85270.0, 98680.0, 110200.0, 124000.0, 164700.0), +1, group="pctl"),
        "share_debt_col": R((0.122, 0.199, 0.2771, 0.3603, 0.4664), -1, "7dp", **SHARE),  # bounds: all NA
        "ratio_black_nh_house_value_households": R(None, kind="derived", quality=(0.08, 0.03, 0.89)),
        "ratio_hispanic_house_value_households": R(None, kind="derived", quality=(0.10, 0.02, 0.88)),
        "ratio_other_nh_house_value_households": R(None, kind="derived", quality=(0.12, 0.05, 0.83)),
        "ratio_white_nh_house_value_households": R(None, kind="derived", quality=(0.18, 0.14, 0.68)),
        "ratio_population_pc_physician": R((836.0, 1387.0, 2084.0, 3122.0, 6960.0), -1, "per1", quality=(0.79, 0.14, 0.07)),
        "rate_low_birth_weight": R((0.06224, 0.06921, 0.0818, 0.09237, 0.1047), -1, "8sig", ci=0.052, quality=(0.18, 0.0, 0.82), **SHARE),
        "rate_injury_death": R((54.64, 74.0, 89.38, 106.1, 137.1), -1, "2dp", ci=0.175, quality=(0.87, 0.12, 0.01), bound_fmt="11sig"),
        "share_affordable_80_ami": R((1.404, 1.58, 1.696, 1.8, 1.972), fmt="5dp", group="affordable", quality=(0.18, 0.82, 0.0)),
        "share_affordable_50_ami": R((1.238, 1.617, 1.848, 2.057, 2.358), fmt="5dp", group="affordable"),
        "share_affordable_30_ami": R((1.016, 1.562, 1.827, 2.054, 2.328), fmt="5dp", group="affordable"),
        "count_homeless": R(None, fmt="int", kind="derived", group="homeless", quality=(0.88, 0.04, 0.08)),
        "share_homeless": R((0.002488, 0.008863, 0.018, 0.03371, 0.08327), -1, "8sig", group="homeless", quality=(0.88, 0.04, 0.08), **SHARE),
        "share_election_turnout": R((0.4942, 0.5891, 0.6575, 0.726, 0.8186), +1, quality=(0.97, 0.03, 0.0), **SHARE),
        "share_desc_rep_asian_other": R(None, kind="derived"),
        "share_desc_rep_black_nonhispanic": R(None, kind="derived"),
        "share_desc_rep_hispanic": R(None, kind="derived"),
        "share_desc_rep_white_nonhispanic": R(None, kind="derived"),
        "share_poverty_exposure": R((0.0, 0.0, 0.0, 0.0, 0.2735), -1, quality=(0.90, 0.09, 0.01), **SHARE),
        "share_black_nh_exposure": R((0.4389, 0.7514, 0.9256, 0.9767, 0.9916), quality=(0.61, 0.25, 0.14), **SHARE),
        "share_hispanic_exposure": R((0.5064, 0.8371, 0.9246, 0.9585, 0.9796), quality=(0.71, 0.24, 0.05), **SHARE),
        "share_other_nh_exposure": R((0.7384, 0.9113, 0.9433, 0.9621, 0.9772), quality=(0.65, 0.29, 0.06), **SHARE),
        "share_white_nh_exposure": R((0.04442, 0.08207, 0.1611, 0.3118, 0.5797), **SHARE),
        "transportation_cost": R((0.66, 6.93, 18.21, 35.2, 69.51), fmt="2dp", hi=100.0),
        "index_transit_trips": R((0.0, 8.26, 18.7, 33.19, 64.35), fmt="2dp", hi=100.0),
        "index_air_quality": R((22.0, 43.0, 64.0, 84.0, 98.0), fmt="int", hi=100.0),
        "ratio_high_low_ses_fb_friends": R((0.5181, 0.6954, 0.8068, 0.9365, 1.118), +1, "5dp32"),
        "count_membership_associations_per_10k": R((5.0, 8.4, 11.0, 14.2, 21.1), +1, "1dp"),
        "rate_violent_crime": R((83.34, 395.9, 708.7, 1104.0, 1892.0), -1, group="crime", quality=(0.34, 0.18, 0.48)),
        "rate_property_crime": R((139.1, 806.0, 1539.0, 2529.0, 4468.0), -1, group="crime"),
        "rate_juv_arrest": R((0.0, 147.5, 549.2, 1412.0, 3913.0), -1, quality=(0.32, 0.18, 0.50)),
        "share_employed": R((0.6698, 0.7363, 0.7819, 0.819, 0.8634), +1, quality=(0.21, 0.17, 0.62), **SHARE),
        "ratio_average_to_living_wage": R((0.4865, 0.5551, 0.605, 0.6696, 0.8163), +1, "7dp"),
    },
    PLACE_LONGITUDINAL: {
        "pctl_income_20": R((14780.0, 21030.0, 27230.0, 36050.0, 51470.0), +1, ci=0.151, group="acs", quality=(0.27, 0.52, 0.21)),
        "pctl_income_50": R((39440.0, 51490.0, 63580.0, 81360.0, 112600.0), +1, ci=0.093, group="acs"),
        "pctl_income_80": R((82070.0, 102000.0, 123200.0, 155300.0, 219900.0), +1, ci=0.086, group="acs"),
        "ratio_black_nh_house_value_households": R(None, kind="derived", group="acs"),
        "ratio_hispanic_house_value_households": R(None, kind="derived", group="acs"),
        "ratio_other_nh_house_value_households": R(None, kind="derived", group="acs"),
        "ratio_white_nh_house_value_households": R(None, kind="derived", group="acs"),
        "share_debt_coll": R((0.1602, 0.2528, 0.3245, 0.3986, 0.4993), -1, "5dp", years=(2021,), **SHARE),
        "count_homeless": R(None, fmt="int", kind="derived", group="homeless", quality=(0.98, 0.01, 0.01), years=(2019, 2020, 2021, 2022)),
        "share_homeless": R((0.004452, 0.01404, 0.02276, 0.03864, 0.08184), -1, "8sig", group="homeless", quality=(0.98, 0.01, 0.01), years=(2019, 2020, 2021, 2022), **SHARE),
        "share_affordable_30_ami": R((0.506, 0.7257, 0.9315, 1.178, 1.622), group="acs"),
        "share_affordable_50_ami": R((0.7761, 0.9737, 1.18, 1.42, 1.821), group="acs"),
        "share_affordable_80_ami": R((1.085, 1.277, 1.436, 1.619, 1.918), group="acs"),
        "share_affordable_available_30_ami": R((0.1893, 0.2857, 0.3714, 0.4714, 0.6444), group="acs"),
        "share_affordable_available_50_ami": R((0.3491, 0.4909, 0.5932, 0.7259, 0.8954), group="acs"),
        "share_affordable_available_80_ami": R((0.6596, 0.8347, 0.9283, 1.012, 1.154), group="acs"),
        "share_desc_rep_other": R(None, kind="derived", group="desc_rep", years=FIVE_YEAR_ACS),
        "share_desc_rep_black_nonhispanic": R(None, kind="derived", group="desc_rep", years=FIVE_YEAR_ACS),
        "share_desc_rep_hispanic": R(None, kind="derived", group="desc_rep", years=FIVE_YEAR_ACS),
        "share_desc_rep_white_nonhispanic": R(None, kind="derived", group="desc_rep", years=FIVE_YEAR_ACS),
        "share_election_turnout": R((0.4184, 0.5093, 0.5852, 0.6698, 0.7827), +1, quality=(0.85, 0.08, 0.07), years=(2016, 2020), **SHARE),
        "share_black_nh_exposure": R((0.3327, 0.6905, 0.874, 0.9438, 0.9775), quality=(0.92, 0.08, 0.0), years=(2016, 2018, 2021, 2023), **SHARE),
        "share_hispanic_exposure": R((0.2686, 0.5374, 0.7292, 0.8627, 0.9384), years=(2016, 2018, 2021, 2023), **SHARE),
        "share_other_nh_exposure": R((0.6016, 0.8168, 0.8776, 0.9156, 0.9476), quality=(0.99, 0.01, 0.0), years=(2016, 2018, 2021, 2023), **SHARE),
        "share_white_nh_exposure": R((0.1817, 0.3063, 0.4128, 0.5562, 0.8389), years=(2016, 2018, 2021, 2023), **SHARE),
        "share_poverty_exposure": R((0.0, 0.0, 0.01041, 0.1831, 0.4229), -1, quality=(0.95, 0.05, 0.0), years=FIVE_YEAR_ACS, **SHARE),
        "count_membership_associations_per_10k": R((5.4, 9.5, 13.7, 18.8, 26.3), +1, "1dp", years=tuple(range(2014, 2023))),
        "ratio_high_low_ses_fb_friends": R(None, kind="derived", quality=(0.03, 0.22, 0.75), years=(2022,)),  # half the recent file's
        "index_air_hazard": R((5.0, 20.0, 40.0, 58.0, 78.0), fmt="int", hi=100.0, years=(2014, 2018, 2019)),
        "share_transit_commuter": R((0.008795, 0.01802, 0.02812, 0.04731, 0.1287), years=(2015, 2019, 2022), **SHARE),
        "share_transportation_cost": R((0.158, 0.2097, 0.2409, 0.2678, 0.3128), -1, years=(2015, 2019, 2022), **SHARE),
        "rate_crime_violent": R((13.51, 666.9, 1143.0, 1829.0, 2912.0), -1, group="crime", quality=(0.65, 0.26, 0.09), years=(2021, 2022, 2023)),
        "rate_crime_property": R((45.35, 2145.0, 3314.0, 4977.0, 7961.0), -1, group="crime", years=(2021, 2022, 2023)),
        "rate_juv_arrest": R((10.24, 446.8, 1026.0, 1956.0, 4011.0), -1, quality=(0.62, 0.15, 0.23), years=(2021, 2022)),
        "share_in_preschool": R((0.283, 0.3671, 0.4331, 0.5169, 0.6411), +1, ci=0.203, group="acs", years=FIVE_YEAR_ACS, **SHARE),
        "rate_learning": R((0.795, 0.9256, 1.018, 1.102, 1.263), +1, "8sig", ci=0.126, quality=(0.84, 0.07, 0.09), years=(2016, 2017)),
        "meps20_black": R((0.0, 0.1045, 0.4341, 0.7187, 0.9517), -1, "8sig", years=(2016, 2017, 2018, 2019, 2020), **SHARE),
        "meps20_hispanic": R((0.0, 0.1362, 0.4392, 0.7145, 0.9464), -1, "8sig", years=(2016, 2017, 2018, 2019, 2020), **SHARE),
        "meps20_white": R((0.0, 0.03639, 0.1626, 0.3987, 0.8791), -1, "8sig", years=(2016, 2017, 2018, 2019, 2020), **SHARE),
        "share_hs_degree": R((0.8027, 0.8672, 0.9046, 0.9382, 0.9739), +1, ci=0.052, group="acs", years=FIVE_YEAR_ACS, **SHARE),
        "share_digital_access": R((0.7103, 0.8026, 0.858, 0.9024, 0.9454), +1, ci=0.025, years=(2018, 2021), **SHARE),
        "share_employed": R((0.7083, 0.7693, 0.8027, 0.8302, 0.8678), +1, ci=0.047, group="acs", **SHARE),
    },
}  # fmt: skip

#: Metrics the files name differently; a geography keeps one score per concept across files.
CONCEPT_ALIASES = {
    "share_debt_coll": "share_debt_col",
    "rate_crime_violent": "rate_violent_crime",
    "rate_crime_property": "rate_property_crime",
}

#: Quality columns whose name is not ``{value column}_quality``: the value column they rate.
QUALITY_OF = {
    "pctl_20_quality": "pctl_income_20",
    "pctl_50_quality": "pctl_income_50",
    "pctl_80_quality": "pctl_income_80",
    "pctl_income_quality": "pctl_income_20",
    "homeless_quality": "share_homeless",
    "share_affordable_quality": "share_affordable_80_ami",
    "rate_crime_quality": "rate_violent_crime",
}

#: Race columns of the Urban files: which population group each describes.
RACE_OF = {
    "share_desc_rep_black_nonhispanic": "black",
    "share_desc_rep_hispanic": "hispanic",
    "share_desc_rep_asian_other": "other",
    "share_desc_rep_other": "other",
    "share_desc_rep_white_nonhispanic": "white",
    "ratio_black_nh_house_value_households": "black",
    "ratio_hispanic_house_value_households": "hispanic",
    "ratio_other_nh_house_value_households": "other",
    "ratio_white_nh_house_value_households": "white",
}
RACES = ("black", "hispanic", "other", "white")

#: Population shares by race (white is the rest): 5/25/50/75/95th percentiles, real files.
RACE_MIX = {
    "place": {
        "black": (0.0095, 0.0308, 0.0822, 0.2071, 0.4573),
        "hispanic": (0.0402, 0.0932, 0.1939, 0.3794, 0.6973),
        "other": (0.0363, 0.0638, 0.0937, 0.1502, 0.3339),
    },
    "county": {
        "black": (0.0007, 0.0065, 0.0211, 0.0975, 0.4201),
        "hispanic": (0.0101, 0.0242, 0.0451, 0.1027, 0.4071),
        "other": (0.0146, 0.0271, 0.0390, 0.0617, 0.1654),
    },
}
#: A group's share of housing value ÷ its share of households (medians in the real place file).
HOUSE_VALUE_FACTOR = {"black": 0.54, "hispanic": 0.68, "other": 1.0, "white": 1.17}
STUDENTS_PER_RESIDENT = 0.17  # count_homeless = share_homeless × enrolment
POP_REF = {"place": 117_000, "county": 28_000}  # median populations; intervals scale with it
NOMINAL_GROWTH = {"pctl_income_20": 1.025, "pctl_income_50": 1.025, "pctl_income_80": 1.025}

#: The demo city's hand-placed scores (0 = lowest value in the nation, 1 = highest).
DEMO_CITY_POSITIONS = {
    # weak: low incomes at the bottom, concentrated poverty, few units for the poorest, violence
    "pctl_income_20": 0.03,
    "pctl_income_50": 0.15,
    "share_poverty_exposure": 0.96,
    "share_affordable_30_ami": 0.10,
    "share_affordable_available_30_ami": 0.10,
    "rate_violent_crime": 0.88,
    "share_employed": 0.25,
    # strong: preschool, learning, civic life, internet
    "share_in_preschool": 0.96,
    "rate_learning": 0.94,
    "count_membership_associations_per_10k": 0.97,
    "share_digital_access": 0.80,
    "share_election_turnout": 0.78,
}
#: Population shares by race of the demo city and county (a Tulsa- or Dayton-like mix).
DEMO_CITY_RACES = {"black": 0.30, "hispanic": 0.14, "other": 0.07, "white": 0.49}
DEMO_COUNTY_RACES = {"black": 0.18, "hispanic": 0.11, "other": 0.07, "white": 0.64}
#: Quality of the demo city's metrics: 1 except these (so the profile shows the flags).
DEMO_CITY_QUALITY = {"rate_juv_arrest": 3, "share_hs_degree": 2}
#: Clear trends of the demo city in the longitudinal file, change per year in the metric's units.
DEMO_CITY_TRENDS = {
    "share_employed": +0.010,  # employment recovering: about 0.68 in 2014, 0.77 in 2023
    "share_poverty_exposure": +0.02,  # poverty concentrating: about 0.24 in 2014, 0.42 in 2023
}
LOADING = 0.7  # correlation of a signed metric's score with the latent advantage

# ---- Opportunity Insights -------------------------------------------------------------------

#: County kfr (income rank) and jail (incarceration) at p25 by (race, gender): real medians.
OI_MEDIANS = {
    ("pooled", "pooled"): (0.4195, 0.0200),
    ("pooled", "female"): (0.4272, 0.0038),
    ("pooled", "male"): (0.4111, 0.0365),
    ("black", "pooled"): (0.3293, 0.0530),
    ("black", "female"): (0.3391, 0.0053),
    ("black", "male"): (0.3117, 0.1076),
    ("hisp", "pooled"): (0.4155, 0.0139),
    ("hisp", "female"): (0.4196, 0.0017),
    ("hisp", "male"): (0.4108, 0.0287),
    ("white", "pooled"): (0.4513, 0.0158),
    ("white", "female"): (0.4588, 0.0036),
    ("white", "male"): (0.4428, 0.0278),
}
OI_KFR = R((0.3386, 0.3844, 0.4195, 0.4607, 0.5494), +1)
OI_JAIL = R((0.0028, 0.013, 0.02, 0.0285, 0.0424), -1)
OI_MIN_CELL = 20  # Opportunity Insights leave cells with fewer children blank
OI_SE_LIMITS = (0.0008, 0.09)  # standard errors of kfr and jail stay in the real files' band
KIDS_PER_RESIDENT = 0.107  # children below p50 in the Atlas cohort ÷ 2018 population
KID_RACE_FACTOR = {"white": 0.85, "black": 1.6, "hisp": 1.3}  # children below p50 ÷ share
MALE_SHARE = 0.512

#: Social Capital Atlas, county and ZIP files (``ec_county`` is the Urban county value).
SOCIAL_CAPITAL: dict[str, dict[str, Range]] = {
    SOCIAL_CAPITAL_COUNTY: {
        "ec_se_county": R((0.0065, 0.0091, 0.0119, 0.0158, 0.0256), kind="se"),
        "child_ec_county": R((0.4693, 0.6787, 0.8155, 0.9621, 1.2115), +1),
        "child_ec_se_county": R((0.0156, 0.0224, 0.0299, 0.0399, 0.0593), kind="se"),
        "ec_grp_mem_county": R((0.4931, 0.7083, 0.8405, 0.9965, 1.2145), +1),
        "ec_high_county": R((0.9459, 1.1349, 1.2582, 1.3843, 1.5194), +1),
        "ec_high_se_county": R((0.0073, 0.0101, 0.0135, 0.0178, 0.0266), kind="se"),
        "child_high_ec_county": R((0.548, 0.7903, 0.9422, 1.1201, 1.4133), +1),
        "child_high_ec_se_county": R((0.0155, 0.0225, 0.0305, 0.0405, 0.06), kind="se"),
        "ec_grp_mem_high_county": R((0.9171, 1.1345, 1.2801, 1.416, 1.5725), +1),
        "exposure_grp_mem_county": R((0.5383, 0.7655, 0.9057, 1.0527, 1.2519), +1),
        "exposure_grp_mem_high_county": R((0.7218, 0.9319, 1.0816, 1.2274, 1.4147), +1),
        "child_exposure_county": R((0.4622, 0.6736, 0.8166, 0.9648, 1.2306), +1),
        "child_high_exposure_county": R((0.4968, 0.7153, 0.8687, 1.0409, 1.3377), +1),
        "bias_grp_mem_county": R((-0.0178, 0.0308, 0.064, 0.0955, 0.1451), -1, **NO_BOUND),
        "bias_grp_mem_high_county": R((-0.3051, -0.2217, -0.1791, -0.1433, -0.0993), **NO_BOUND),
        "child_bias_county": R((-0.052, -0.0183, 0.002, 0.0199, 0.0557), -1, **NO_BOUND),
        "child_high_bias_county": R((-0.1708, -0.1112, -0.0791, -0.0522, -0.0186), **NO_BOUND),
        "clustering_county": R((0.0871, 0.1027, 0.1146, 0.1272, 0.152)),
        "support_ratio_county": R((0.9639, 0.9868, 0.9937, 0.9967, 0.9991), **SHARE),
        "volunteering_rate_county": R((0.0314, 0.0553, 0.0733, 0.094, 0.143), +1, **SHARE),
        "civic_organizations_county": R((0.0093, 0.014, 0.0178, 0.0231, 0.0359), +1),
    },
    SOCIAL_CAPITAL_ZIP: {
        "ec_zip": R((0.5298, 0.7302, 0.8763, 1.0335, 1.2525), +1),
        "ec_se_zip": R((0.0107, 0.0144, 0.0195, 0.027, 0.0394), kind="se"),
        "nbhd_ec_zip": R((0.3022, 0.5746, 0.8044, 1.0708, 1.5128), +1),
        "ec_grp_mem_zip": R((0.525, 0.7678, 0.952, 1.1366, 1.394), +1),
        "ec_high_zip": R((0.9665, 1.1735, 1.318, 1.4683, 1.6547), +1),
        "ec_high_se_zip": R((0.0108, 0.0141, 0.0182, 0.025, 0.0348), kind="se"),
        "nbhd_ec_high_zip": R((0.6036, 0.9477, 1.1792, 1.435, 1.762), +1),
        "ec_grp_mem_high_zip": R((0.9739, 1.2047, 1.3626, 1.5224, 1.7135), +1),
        "exposure_grp_mem_zip": R((0.6077, 0.8394, 1.0073, 1.1739, 1.3977), +1),
        "exposure_grp_mem_high_zip": R((0.7986, 1.0204, 1.181, 1.3501, 1.572), +1),
        "nbhd_exposure_zip": R((0.3923, 0.669, 0.896, 1.172, 1.5671), +1),
        "bias_grp_mem_zip": R((-0.0438, 0.0068, 0.0486, 0.0977, 0.1889), -1, **NO_BOUND),
        "bias_grp_mem_high_zip": R((-0.2706, -0.1884, -0.1478, -0.1138, -0.0695), **NO_BOUND),
        "nbhd_bias_zip": R((-0.0835, 0.0099, 0.0834, 0.1769, 0.3773), -1, **NO_BOUND),
        "nbhd_bias_high_zip": R((-0.6903, -0.4264, -0.2923, -0.1914, -0.0862), **NO_BOUND),
        "clustering_zip": R((0.0787, 0.0915, 0.1035, 0.1168, 0.1405)),
        "support_ratio_zip": R((0.7058, 0.8674, 0.9419, 0.9806, 0.9965), **SHARE),
        "volunteering_rate_zip": R((0.0282, 0.0524, 0.0712, 0.0941, 0.1429), +1, **SHARE),
        "civic_organizations_zip": R((0.0043, 0.0092, 0.0145, 0.0218, 0.042), +1),
    },
}  # fmt: skip
SE_REF_KIDS = {SOCIAL_CAPITAL_COUNTY: 3353.0, SOCIAL_CAPITAL_ZIP: 609.0}  # median num_below_p50

#: Tract outcomes (real national percentiles): kfr in dollars, top-20% share, kir ranks 0-100.
TRACT_RANGES = {
    "kfr_dollars": R((21975.0, 28974.0, 33731.0, 39160.0, 48944.0), +1),
    "top20": R((0.0273, 0.0662, 0.1077, 0.1667, 0.2849), +1, hi=1.0),
    "kir_pooled_p25": R((36.415, 40.5056, 43.9469, 47.9671, 54.6917), +1),
    "kir_white_p25": R((36.4066, 41.4019, 45.262, 49.7608, 57.5069), +1),
    "kir_black_p25": R((31.8733, 37.2622, 40.4641, 44.4117, 52.6796), +1),
    "hhinc_mean2000": R((41578.945, 57378.488, 71721.938, 94675.961, 146890.7), +1),
}
TRACT_MIN_KIDS = 30  # tract_collapse leaves a group's rank blank below about this many children

#: National kir by parent percentile p: c0 + c1 p + c2 p² (fit to the real file), and the
#: number of children at p = 1, 50, 100.
NATIONAL_KIR = {
    ("White", "F"): (35.358, 0.13025, 0.00120, 34000, 70500, 92000),
    ("White", "M"): (41.725, 0.27148, 0.00021, 36000, 74000, 94500),
    ("Black", "F"): (36.327, 0.16228, 0.00085, 29500, 11500, 850),
    ("Black", "M"): (32.889, 0.20449, 0.00063, 29000, 11000, 950),
    ("Asian", "F"): (52.557, 0.05204, 0.00112, 4300, 2900, 4300),
    ("Asian", "M"): (54.133, 0.07817, 0.00104, 4800, 2900, 4300),
    ("Hispanic", "F"): (38.744, 0.10505, 0.00093, 17500, 12500, 2800),
    ("Hispanic", "M"): (44.417, 0.17925, 0.00032, 17500, 12500, 2800),
    ("AIAN", "F"): (30.298, 0.12662, 0.00111, 1600, 800, 100),
    ("AIAN", "M"): (31.682, 0.25732, 0.00034, 1700, 900, 150),
}

# ---- tracts and their polygons ---------------------------------------------------------------

CITY_COLUMNS, CITY_ROWS = 10, 6  # the city is a 10 × 6 grid of tracts inside a ring of 36
COLUMN_UNITS = (2,) + (1,) * CITY_COLUMNS + (2,)  # ring tracts are twice as wide
ROW_UNITS = (2,) + (1,) * CITY_ROWS + (2,)
CELL_DEGREES = (0.018, 0.0145)  # one city tract: about 1.6 km × 1.6 km at latitude 36
CENTRE = (-95.0, 36.0)  # lon, lat of the city centre
METRES_PER_DEGREE = (111_320.0 * math.cos(math.radians(CENTRE[1])), 110_950.0)
#: Neighbourhood names: first word by column (west → east), second by row (north → south).
FIRST_WORDS = ("Cedar", "Maple", "Willow", "Oak", "Elm", "Riverside", "Mill", "Railyard",
               "Foundry", "Eastgate")  # fmt: skip
SECOND_WORDS = ("Heights", "Park", "Hill", "Grove", "Commons", "Flats")
RIVER_COLUMN = 6  # the grid column (0 = west ring) a river runs down: tracts there have water
AIRPORT_TRACT = "011900"  # a ring tract with almost no residents: outcomes blank, as in real files


# ----------------------------------------------------------------------------------------------
# The world: geographies with their latent advantage, composition and scores
# ----------------------------------------------------------------------------------------------


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@dataclass
class Geo:
    """A place, county or ZIP code of the synthetic state, with what its files share.

    >>> g = Geo("9900100", "00100", "Demo City city", "place", 1000, 0.5, np.random.default_rng(1))
    >>> u = g.score("share_employed", +1)
    >>> 0 <= u <= 1, g.score("share_employed", +1) == u  # the same position in every file
    (True, True)
    """

    geo_id: str
    code: str
    name: str
    level: str
    population: int
    advantage: float
    rng: np.random.Generator
    races: dict[str, float] = field(default_factory=dict)
    positions: dict[str, float] = field(default_factory=dict)
    quality_override: dict[str, int] | None = None
    county_code: str = ""
    growth: float = 0.0
    kids: float = 0.0
    _scores: dict[str, float] = field(default_factory=dict)
    _house: dict[str, tuple[float, float]] = field(default_factory=dict)

    def score(self, concept: str, sign: int) -> float:
        """This geography's position in [0, 1] on a metric; the same in every file."""
        if concept not in self._scores:
            if concept in self.positions:  # hand-placed, give or take a little
                u = self.positions[concept] + 0.01 * self.rng.standard_normal()
            else:
                load = LOADING * sign
                z = load * self.advantage + math.sqrt(1.0 - load**2) * self.rng.standard_normal()
                u = _phi(z)
            self._scores[concept] = min(max(u, 0.005), 0.995)
        return self._scores[concept]

    def quality(self, group: str, shares: tuple[float, float, float]) -> int:
        """A quality code 1-3: the demo geographies' are fixed, the others' drawn."""
        if self.quality_override is not None:
            return self.quality_override.get(group, 1)
        p = np.asarray(shares, dtype=float)
        return int(self.rng.choice(3, p=p / p.sum())) + 1

    def house_value(self, race: str) -> tuple[float, float]:
        """(share of housing value, share of households) of a group, each summing to 1."""
        if not self._house:
            households = {r: self.races[r] * math.exp(0.1 * self.rng.standard_normal())
                          for r in RACES}  # fmt: skip
            total = sum(households.values())
            households = {r: v / total for r, v in households.items()}
            values = {r: households[r] * HOUSE_VALUE_FACTOR[r]
                      * math.exp(0.15 * self.rng.standard_normal()) for r in RACES}  # fmt: skip
            vtotal = sum(values.values())
            self._house = {r: (values[r] / vtotal, households[r]) for r in RACES}
        return self._house[race]


@dataclass
class Tract:
    """One tract of the demo county: its codes, name, polygon and outcomes.

    >>> Tract("000100", "", True, [], 0, 0, 0.5, 10, 5, 5, "99901").geoid
    '99001000100'
    """

    tractce: str
    name: str  # as the Opportunity Atlas writes it: "Neighborhood, City, ST" ("" when none)
    in_city: bool
    ring: list[tuple[float, float]]
    aland: int
    awater: int
    advantage: float
    kids: int
    kids_white: int
    kids_black: int
    zip_code: str

    @property
    def geoid(self) -> str:
        return COUNTY_GEO_ID + self.tractce


@dataclass
class World:
    """Every geography of the synthetic state.

    >>> w = World([], [], [], [], {"001": (1, "Demo Zone")}, np.random.default_rng(1))
    >>> w.cz_of["001"], w.tracts
    ((1, 'Demo Zone'), [])
    """

    places: list[Geo]
    counties: list[Geo]
    zips: list[Geo]
    tracts: list[Tract]
    cz_of: dict[str, tuple[int, str]]  # county code -> (cz, czname)
    rng: np.random.Generator


def _races(rng: np.random.Generator, level: str) -> dict[str, float]:
    mix = {r: R(q, hi=1.0).draw(float(rng.random())) for r, q in RACE_MIX[level].items()}
    minority = sum(mix.values())
    if not 0.105 <= minority <= 0.95:  # white shares stay within the real files' 5%-90%
        target = min(max(minority, 0.105), 0.95)
        mix = {r: v * target / minority for r, v in mix.items()}
    mix["white"] = 1.0 - sum(mix.values())
    return mix


def _jitter(rng: np.random.Generator, mix: dict[str, float]) -> dict[str, float]:
    raw = {r: v * math.exp(0.05 * rng.standard_normal()) for r, v in mix.items()}
    total = sum(raw.values())
    return {r: v / total for r, v in raw.items()}


def _build_world(seed: int) -> World:
    root = np.random.Generator(np.random.PCG64(seed))
    streams = iter(root.spawn(2 + 1 + N_PEER_COUNTIES + 1 + N_PEER_PLACES + 60))
    world_rng, tract_rng = next(streams), next(streams)
    tracts = _build_tracts(tract_rng)
    city_pop = sum(_tract_population(t) for t in tracts if t.in_city)
    county_pop = sum(_tract_population(t) for t in tracts)

    counties = [Geo(COUNTY_GEO_ID, COUNTY_CODE, COUNTY_NAME, "county", county_pop, -0.5,
                    next(streams), races=_jitter(world_rng, DEMO_COUNTY_RACES),
                    positions={k: 0.5 + 0.6 * (v - 0.5) for k, v in DEMO_CITY_POSITIONS.items()},
                    quality_override={})]  # fmt: skip
    for k in range(1, N_PEER_COUNTIES + 1):
        rng = next(streams)
        pop = int(min(max(math.exp(rng.normal(math.log(28_000), 1.3)), 1_500), 3_000_000))
        code = f"{2 * k + 1:03d}"
        counties.append(Geo(STATE_FIPS + code, code, f"Peer County {k:02d} (synthetic)", "county",
                            pop, float(rng.standard_normal()), rng, races=_races(rng, "county")))

    places = [Geo(CITY_GEO_ID, CITY_PLACE, CITY_NAME, "place", city_pop, -0.8, next(streams),
                  races=_jitter(world_rng, DEMO_CITY_RACES),
                  positions=dict(DEMO_CITY_POSITIONS), quality_override=dict(DEMO_CITY_QUALITY),
                  county_code=COUNTY_CODE, growth=0.002)]  # fmt: skip
    for i in range(1, N_PEER_PLACES + 1):
        rng = next(streams)
        county = counties[i]
        pop = int(min(max(math.exp(rng.normal(math.log(120_000), 0.6)), 76_000), 2_500_000))
        county.population = max(county.population, int(pop * rng.uniform(1.3, 2.5)))
        advantage = 0.6 * county.advantage + 0.8 * float(rng.standard_normal())
        places.append(Geo(STATE_FIPS + f"{i:02d}100", f"{i:02d}100", f"Peerville {i:02d} city",
                          "place", pop, advantage, rng, races=_races(rng, "place"),
                          county_code=county.code, growth=float(rng.normal(0.005, 0.008))))
    for county in counties:
        county.kids = county.population * KIDS_PER_RESIDENT * math.exp(
            0.12 * world_rng.standard_normal())

    zips = _build_zips(tracts, counties, streams)
    cz_of: dict[str, tuple[int, str]] = {}
    for index, county in enumerate(counties):
        group = index // COUNTIES_PER_CZ
        name = "Demo City" if group == 0 else f"Peer CZ {group + 1:02d} (synthetic)"
        cz_of[county.code] = (99101 + group, name)
    return World(places, counties, zips, tracts, cz_of, world_rng)


def _tract_population(t: Tract) -> int:
    return round(t.kids * 4.4)


def _build_zips(tracts: list[Tract], counties: list[Geo], streams: Iterable[np.random.Generator]
                ) -> list[Geo]:  # fmt: skip
    it = iter(streams)
    zips: list[Geo] = []
    by_zip: dict[str, list[Tract]] = {}
    for t in tracts:
        by_zip.setdefault(t.zip_code, []).append(t)
    for code in sorted(by_zip):
        members = by_zip[code]
        pop = sum(_tract_population(t) for t in members)
        advantage = float(np.mean([t.advantage for t in members]))
        zips.append(Geo(code, code, code, "zip", pop, advantage, next(it),
                        county_code=COUNTY_CODE))  # fmt: skip
    for k, county in enumerate(counties[1:37], start=len(by_zip)):
        rng = next(it)
        code = str(99951 + k)
        pop = int(county.population * rng.uniform(0.3, 0.7))
        zips.append(Geo(code, code, code, "zip", pop,
                        county.advantage + 0.5 * float(rng.standard_normal()), rng,
                        county_code=county.code))  # fmt: skip
    for z in zips:
        z.kids = z.population * KIDS_PER_RESIDENT * math.exp(0.15 * z.rng.standard_normal())
    return zips


def _build_tracts(rng: np.random.Generator) -> list[Tract]:
    """The demo county's tracts: a jittered grid (shared edges, so a clean mosaic)."""
    xs = np.concatenate([[0.0], np.cumsum(COLUMN_UNITS)])  # unit coordinates of grid lines
    ys = np.concatenate([[0.0], np.cumsum(ROW_UNITS)])
    nx, ny = len(COLUMN_UNITS), len(ROW_UNITS)
    width, height = xs[-1], ys[-1]
    # Jitter the grid's nodes and give every edge a bent midpoint; neighbours share both.
    node = {(i, j): (xs[i] + 0.16 * rng.uniform(-1, 1), ys[j] + 0.16 * rng.uniform(-1, 1))
            for i in range(nx + 1) for j in range(ny + 1)}  # fmt: skip

    def midpoint(a: tuple[int, int], b: tuple[int, int], bend: float) -> tuple[float, float]:
        (x1, y1), (x2, y2) = node[a], node[b]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy)
        off = min(length, 1.0) * bend
        return ((x1 + x2) / 2 - dy / length * off, (y1 + y2) / 2 + dx / length * off)

    bends: dict[tuple[tuple[int, int], tuple[int, int]], tuple[float, float]] = {}

    def edge(a: tuple[int, int], b: tuple[int, int]) -> tuple[float, float]:
        key = (a, b) if a < b else (b, a)
        if key not in bends:
            bends[key] = midpoint(key[0], key[1], 0.1 * float(rng.uniform(-1, 1)))
        return bends[key]

    def to_lonlat(p: tuple[float, float]) -> tuple[float, float]:
        lon = CENTRE[0] + (p[0] - width / 2) * CELL_DEGREES[0]
        lat = CENTRE[1] + (p[1] - height / 2) * CELL_DEGREES[1]
        return (round(lon, 6), round(lat, 6))

    cells = _cell_order(nx, ny)
    tracts = []
    for i, j, in_city, tractce in cells:
        sw, se, ne, nw = (i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)
        ring_units = [node[sw], edge(sw, se), node[se], edge(se, ne), node[ne], edge(ne, nw),
                      node[nw], edge(nw, sw)]  # fmt: skip
        ring = [to_lonlat(p) for p in ring_units]
        ring.append(ring[0])
        area = _area_m2(ring)
        cx = (xs[i] + xs[i + 1]) / 2 / width * 2 - 1  # -1 west … +1 east
        cy = (ys[j] + ys[j + 1]) / 2 / height * 2 - 1  # -1 south … +1 north
        advantage = (-1.1 * cx
                     + 0.7 * math.exp(-((cx + 0.45) ** 2 + (cy - 0.35) ** 2) / 0.08)
                     - 0.6 * math.exp(-((cx - 0.05) ** 2 + (cy + 0.05) ** 2) / 0.03)
                     + (0.0 if in_city else 0.35) + 0.3 * float(rng.standard_normal()))  # fmt: skip
        water = 0.0
        if i == RIVER_COLUMN:
            water = area * rng.uniform(0.04, 0.09)
        elif rng.random() < 0.2:
            water = area * rng.uniform(0.001, 0.01)
        kids = round(900 * math.exp(0.3 * rng.standard_normal()))
        if tractce == AIRPORT_TRACT:
            kids, water = 14, 0.0
        black = min(max(1 / (1 + math.exp(1.8 * advantage + (0.6 if in_city else 1.8))), 0.01), 0.95)
        white = (1 - black) * 0.8
        tracts.append(Tract(tractce, _tract_name(i, j, nx, ny, in_city, tractce), in_city, ring,
                            round(area - water), round(water), advantage, kids,
                            round(kids * white), round(kids * black), _zip_of(i, j, in_city)))
    return sorted(tracts, key=lambda t: t.tractce)


def _cell_order(nx: int, ny: int) -> list[tuple[int, int, bool, str]]:
    """Grid cells with their TRACTCE: city tracts 1-60 from the north-west, row by row (every
    seventh a split-style ``xx01`` code, as real tract codes are), ring tracts 101-136 clockwise."""
    cells = []
    for k in range(1, CITY_COLUMNS * CITY_ROWS + 1):
        row, col = divmod(k - 1, CITY_COLUMNS)
        suffix = "01" if k % 7 == 0 else "00"
        cells.append((col + 1, ny - 2 - row, True, f"{k:04d}{suffix}"))
    ring = ([(i, ny - 1) for i in range(nx)] + [(nx - 1, j) for j in range(ny - 2, 0, -1)]
            + [(i, 0) for i in range(nx - 1, -1, -1)] + [(0, j) for j in range(1, ny - 1)])
    for k, (i, j) in enumerate(ring, start=101):
        cells.append((i, j, False, f"{k:04d}00"))
    return cells


def _tract_name(i: int, j: int, nx: int, ny: int, in_city: bool, tractce: str) -> str:
    if tractce == AIRPORT_TRACT:
        return ""
    if in_city:
        return f"{FIRST_WORDS[i - 1]} {SECOND_WORDS[ny - 2 - j]}, {CITY_SHORT_NAME}, {STATE_ABBR}"
    side = ("North" if j == ny - 1 else "South" if j == 0 else "West" if i == 0 else "East")
    return f"{side} Demo, {STATE_ABBR}"


def _zip_of(i: int, j: int, in_city: bool) -> str:
    """Demo county ZIPs 99951-99962: ten blocks of the city (2 columns × 3 rows), then the
    northern and southern halves of the ring. 99951-99999 are unassigned by USPS."""
    if not in_city:
        return "99961" if j > len(ROW_UNITS) / 2 else "99962"
    block = (i - 1) // 2 + (0 if j > CITY_ROWS / 2 else 5)
    return str(99951 + block)


def _area_m2(ring: list[tuple[float, float]]) -> float:
    twice = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring))
    return abs(twice) / 2 * METRES_PER_DEGREE[0] * METRES_PER_DEGREE[1]


# ----------------------------------------------------------------------------------------------
# Number formats
# ----------------------------------------------------------------------------------------------


def _is_na(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _text(x: float | str | None, fmt: str, na: str = "NA") -> str:
    """A value as the Urban Institute files write it (R's shortest digits, "NA" for missing)."""
    if _is_na(x):
        return na
    if isinstance(x, str):
        return x
    if fmt == "int":
        return str(round(x))
    if fmt == "per1":
        return f"{round(x)}:1"
    if fmt == "full":
        s = repr(float(x) + 0.0)
        return s[:-2] if s.endswith(".0") else s
    digits, unit, single = re.fullmatch(r"(\d+)(dp|sig)(32)?", fmt).groups()  # type: ignore[union-attr]
    x = round(x, int(digits)) if unit == "dp" else float(f"{x:.{digits}g}")
    if single:  # kept as a 32-bit float by the publisher: 8 significant digits of that
        x = float(f"{float(np.float32(x)):.8g}")
    s = repr(float(x) + 0.0)
    return s[:-2] if s.endswith(".0") else s


def _stata(x: float | None, decimals: int | None = None) -> str:
    """A value as Stata exports write it: float precision, 8 significant digits, no leading
    zero (``.36166623``, ``-.0011485975``), blank when missing."""
    if _is_na(x):
        return ""
    assert x is not None
    if decimals is not None:
        x = round(x, decimals)
    s = f"{float(np.float32(x)):.8g}"
    if s.startswith("0."):
        return s[1:]
    if s.startswith("-0."):
        return "-" + s[2:]
    return s


def _columns(*chunks: str) -> tuple[str, ...]:
    return tuple("".join(chunks).split(","))


# ----------------------------------------------------------------------------------------------
# The Urban Institute files
# ----------------------------------------------------------------------------------------------

HEADERS: dict[str, tuple[str, ...]] = {
    PLACE_RECENT: _columns(
        "state,place,state_name,place_name,share_in_preschool,share_in_preschool_quality,"
        "rate_learning,rate_learning_lb,rate_learning_ub,rate_learning_quality,meps20_black,"
        "meps20_black_quality,meps20_hispanic,meps20_hispanic_quality,meps20_white,"
        "meps20_white_quality,share_hs_degree,share_hs_degree_quality,share_digital_access,"
        "share_digital_access_quality,pctl_income_20,pctl_20_quality,pctl_income_50,"
        "pctl_50_quality,pctl_income_80,pctl_80_quality,pctl_income_quality,share_debt_col,"
        "share_debt_col_quality,ratio_black_nh_house_value_households,"
        "ratio_black_nh_house_value_households_quality,ratio_hispanic_house_value_households,"
        "ratio_hispanic_house_value_households_quality,ratio_other_nh_house_value_households,"
        "ratio_other_nh_house_value_households_quality,ratio_white_nh_house_value_households,"
        "ratio_white_nh_house_value_households_quality,count_homeless,count_homeless_lb,"
        "count_homeless_ub,share_homeless,homeless_quality,share_affordable_80_ami,"
        "share_affordable_50_ami,share_affordable_30_ami,share_affordable_quality,"
        "share_election_turnout,share_election_turnout_quality,share_desc_rep_asian_other,"
        "share_desc_rep_black_nonhispanic,share_desc_rep_hispanic,"
        "share_desc_rep_white_nonhispanic,share_poverty_exposure,share_poverty_exposure_quality,"
        "share_black_nh_exposure,share_black_nh_exposure_quality,share_hispanic_exposure,"
        "share_hispanic_exposure_quality,share_other_nh_exposure,"
        "share_other_nh_exposure_quality,share_white_nh_exposure,"
        "share_white_nh_exposure_quality,index_air_quality,index_air_quality_quality,"
        "ratio_high_low_ses_fb_friends,ratio_high_low_ses_fb_friends_quality,"
        "count_membership_associations_per_10k,count_membership_associations_per_10k_quality,"
        "rate_juv_arrest,rate_juv_arrest_quality,rate_violent_crime,rate_property_crime,"
        "rate_crime_quality,share_employed,share_employed_quality"
    ),
    COUNTY_RECENT: _columns(
        "state,county,state_name,county_name,share_in_preschool,share_in_preschool_quality,"
        "rate_learning,rate_learning_lb,rate_learning_ub,rate_learning_quality,meps20_black,"
        "meps20_black_quality,meps20_hispanic,meps20_hispanic_quality,meps20_white,"
        "meps20_white_quality,share_hs_degree,share_hs_degree_quality,share_digital_access,"
        "share_digital_access_quality,pctl_income_20,pctl_20_quality,pctl_income_50,"
        "pctl_50_quality,pctl_income_80,pctl_80_quality,share_debt_col,share_debt_col_quality,"
        "share_debt_col_lb,share_debt_col_ub,ratio_black_nh_house_value_households,"
        "ratio_black_nh_house_value_households_quality,ratio_hispanic_house_value_households,"
        "ratio_hispanic_house_value_households_quality,ratio_other_nh_house_value_households,"
        "ratio_other_nh_house_value_households_quality,ratio_white_nh_house_value_households,"
        "ratio_white_nh_house_value_households_quality,ratio_population_pc_physician,"
        "ratio_population_pc_physician_quality,rate_low_birth_weight,rate_low_birth_weight_lb,"
        "rate_low_birth_weight_ub,rate_low_birth_weight_quality,rate_injury_death,"
        "rate_injury_death_lb,rate_injury_death_ub,rate_injury_death_quality,"
        "share_affordable_80_ami,share_affordable_50_ami,share_affordable_30_ami,"
        "share_affordable_quality,count_homeless,count_homeless_lb,count_homeless_ub,"
        "share_homeless,homeless_quality,share_election_turnout,share_election_turnout_quality,"
        "share_desc_rep_asian_other,share_desc_rep_black_nonhispanic,share_desc_rep_hispanic,"
        "share_desc_rep_white_nonhispanic,share_poverty_exposure,share_poverty_exposure_quality,"
        "share_black_nh_exposure,share_black_nh_exposure_quality,share_hispanic_exposure,"
        "share_hispanic_exposure_quality,share_other_nh_exposure,"
        "share_other_nh_exposure_quality,share_white_nh_exposure,"
        "share_white_nh_exposure_quality,transportation_cost,index_transit_trips,"
        "transportation_cost_quality,index_transit_trips_quality,index_air_quality,"
        "index_air_quality_quality,ratio_high_low_ses_fb_friends,"
        "ratio_high_low_ses_fb_friends_quality,count_membership_associations_per_10k,"
        "count_membership_associations_per_10k_quality,rate_violent_crime,rate_property_crime,"
        "rate_crime_quality,rate_juv_arrest,rate_juv_arrest_quality,share_employed,"
        "share_employed_quality,ratio_average_to_living_wage,"
        "ratio_average_to_living_wage_quality,pctl_income_quality"
    ),
    PLACE_LONGITUDINAL: _columns(
        "year,state,place,state_name,place_name,population,pctl_income_20,pctl_income_20_lb,"
        "pctl_income_20_ub,pctl_income_20_quality,pctl_income_50,pctl_income_50_lb,"
        "pctl_income_50_ub,pctl_income_50_quality,pctl_income_80,pctl_income_80_lb,"
        "pctl_income_80_ub,pctl_income_80_quality,ratio_black_nh_house_value_households,"
        "ratio_black_nh_house_value_households_quality,ratio_hispanic_house_value_households,"
        "ratio_hispanic_house_value_households_quality,ratio_other_nh_house_value_households,"
        "ratio_other_nh_house_value_households_quality,ratio_white_nh_house_value_households,"
        "ratio_white_nh_house_value_households_quality,share_debt_coll,share_debt_coll_quality,"
        "count_homeless,count_homeless_lb,count_homeless_ub,share_homeless,"
        "count_homeless_quality,share_homeless_quality,subgroup_type,subgroup,"
        "share_affordable_30_ami,share_affordable_50_ami,share_affordable_80_ami,"
        "share_affordable_30_ami_quality,share_affordable_50_ami_quality,"
        "share_affordable_80_ami_quality,share_affordable_available_30_ami,"
        "share_affordable_available_50_ami,share_affordable_available_80_ami,"
        "share_affordable_available_30_ami_quality,share_affordable_available_50_ami_quality,"
        "share_affordable_available_80_ami_quality,share_desc_rep_other,"
        "share_desc_rep_other_quality,share_desc_rep_black_nonhispanic,"
        "share_desc_rep_black_nonhispanic_quality,share_desc_rep_hispanic,"
        "share_desc_rep_hispanic_quality,share_desc_rep_white_nonhispanic,"
        "share_desc_rep_white_nonhispanic_quality,share_election_turnout,"
        "share_election_turnout_quality,share_black_nh_exposure,share_black_nh_exposure_quality,"
        "share_hispanic_exposure,share_hispanic_exposure_quality,share_other_nh_exposure,"
        "share_other_nh_exposure_quality,share_white_nh_exposure,"
        "share_white_nh_exposure_quality,share_poverty_exposure,share_poverty_exposure_quality,"
        "count_membership_associations_per_10k,count_membership_associations_per_10k_quality,"
        "ratio_high_low_ses_fb_friends,ratio_high_low_ses_fb_friends_quality,index_air_hazard,"
        "index_air_hazard_quality,share_transit_commuter,share_transit_commuter_quality,"
        "share_transportation_cost,share_transportation_cost_quality,rate_crime_violent,"
        "rate_crime_property,rate_crime_violent_quality,rate_crime_property_quality,"
        "rate_juv_arrest,rate_juv_arrest_quality,share_in_preschool,share_in_preschool_lb,"
        "share_in_preschool_ub,share_in_preschool_quality,rate_learning,rate_learning_lb,"
        "rate_learning_ub,rate_learning_quality,meps20_black,meps20_black_quality,"
        "meps20_hispanic,meps20_hispanic_quality,meps20_white,meps20_white_quality,"
        "share_hs_degree,share_hs_degree_lb,share_hs_degree_ub,share_hs_degree_quality,"
        "share_digital_access,share_digital_access_lb,share_digital_access_ub,"
        "share_digital_access_quality,share_employed,share_employed_lb,share_employed_ub,"
        "share_employed_quality"
    ),
    COUNTY_OUTCOMES: _columns(
        "state,county,cz,czname,kfr_pooled_pooled_p25,kfr_pooled_pooled_p25_se,"
        "jail_pooled_pooled_p25,jail_pooled_pooled_p25_se,pooled_pooled_count,"
        "kfr_black_pooled_p25,kfr_black_pooled_p25_se,kfr_hisp_pooled_p25,"
        "kfr_hisp_pooled_p25_se,kfr_white_pooled_p25,kfr_white_pooled_p25_se,"
        "jail_black_pooled_p25,jail_black_pooled_p25_se,jail_hisp_pooled_p25,"
        "jail_hisp_pooled_p25_se,jail_white_pooled_p25,jail_white_pooled_p25_se,"
        "white_pooled_count,black_pooled_count,hisp_pooled_count,kfr_pooled_female_p25,"
        "kfr_pooled_female_p25_se,kfr_pooled_male_p25,kfr_pooled_male_p25_se,"
        "jail_pooled_female_p25,jail_pooled_female_p25_se,jail_pooled_male_p25,"
        "jail_pooled_male_p25_se,pooled_male_count,pooled_female_count,kfr_black_female_p25,"
        "kfr_black_female_p25_se,kfr_hisp_female_p25,kfr_hisp_female_p25_se,"
        "kfr_white_female_p25,kfr_white_female_p25_se,kfr_black_male_p25,kfr_black_male_p25_se,"
        "kfr_hisp_male_p25,kfr_hisp_male_p25_se,kfr_white_male_p25,kfr_white_male_p25_se,"
        "jail_black_female_p25,jail_black_female_p25_se,jail_hisp_female_p25,"
        "jail_hisp_female_p25_se,jail_white_female_p25,jail_white_female_p25_se,"
        "jail_black_male_p25,jail_black_male_p25_se,jail_hisp_male_p25,jail_hisp_male_p25_se,"
        "jail_white_male_p25,jail_white_male_p25_se,white_male_count,black_male_count,"
        "hisp_male_count,white_female_count,black_female_count,hisp_female_count"
    ),
    SOCIAL_CAPITAL_COUNTY: _columns(
        "county,county_name,num_below_p50,pop2018,ec_county,ec_se_county,child_ec_county,"
        "child_ec_se_county,ec_grp_mem_county,ec_high_county,ec_high_se_county,"
        "child_high_ec_county,child_high_ec_se_county,ec_grp_mem_high_county,"
        "exposure_grp_mem_county,exposure_grp_mem_high_county,child_exposure_county,"
        "child_high_exposure_county,bias_grp_mem_county,bias_grp_mem_high_county,"
        "child_bias_county,child_high_bias_county,clustering_county,support_ratio_county,"
        "volunteering_rate_county,civic_organizations_county"
    ),
    SOCIAL_CAPITAL_ZIP: _columns(
        "zip,county,num_below_p50,pop2018,ec_zip,ec_se_zip,nbhd_ec_zip,ec_grp_mem_zip,"
        "ec_high_zip,ec_high_se_zip,nbhd_ec_high_zip,ec_grp_mem_high_zip,exposure_grp_mem_zip,"
        "exposure_grp_mem_high_zip,nbhd_exposure_zip,bias_grp_mem_zip,bias_grp_mem_high_zip,"
        "nbhd_bias_zip,nbhd_bias_high_zip,clustering_zip,support_ratio_zip,"
        "volunteering_rate_zip,civic_organizations_zip"
    ),
    TRACT_KFR: ("tract", "Name", "Household_Income_at_Age_35_rP_gP_p25"),
    TRACT_TOP20: ("tract", "Name", "Frac._in_Top_20%_Based_on_Household_Income_rP_gP_p25"),
    TRACT_COLLAPSE: _columns(
        "state,county,tract,kir_black_p25,kir_pooled_p25,kir_white_p25,kid_pooled_n,"
        "kid_white_n,kid_black_n"
    ),
    TRACT_COVARIATES: ("tract", "county", "state", "hhinc_mean2000"),
    CZ_CROSSWALK: ("cz", "state", "county", "czname"),
    NATIONAL_COLLAPSE: ("par_pctile", "kid_race", "gender", "n_kir", "kir"),
}
QUALITY_WORDS = {1: "Strong", 2: "Marginal", 3: "Weak"}
_ID_COLUMNS = {"year", "state", "place", "county", "state_name", "place_name", "county_name",
               "population", "subgroup_type", "subgroup"}  # fmt: skip

Value = float | str | None


def _concept(column: str) -> str:
    return CONCEPT_ALIASES.get(column, column)


def _draw(geo: Geo, column: str, r: Range) -> float:
    return r.draw(geo.score(_concept(column), r.sign))


def _interval(geo: Geo, value: float, r: Range) -> tuple[float, float]:
    """95% bounds around ``value``: the file's median relative width, wider for small places."""
    scale = min(max(math.sqrt(POP_REF[geo.level] / geo.population), 0.3), 3.0)
    half = r.ci * abs(value) * scale * math.exp(0.15 * geo.rng.standard_normal())
    lb = value - half * geo.rng.uniform(0.9, 1.1)
    ub = value + half * geo.rng.uniform(0.9, 1.1)
    return max(lb, r.lo), min(ub, r.hi)


def _count_bounds(geo: Geo, count: float) -> tuple[float, float]:
    """Homeless-student counts: bounds equal the count unless small cells were suppressed, as in
    the real files (about 70% of their rows have lb = count = ub)."""
    low, high = (int(geo.rng.choice(4, p=(0.7, 0.15, 0.1, 0.05))) for _ in range(2))
    return max(count - low, 0.0), count + high


def _race_text(geo: Geo, column: str, path: str) -> Value:
    race = RACE_OF[column]
    if column.startswith("share_desc_rep_"):
        return geo.races[race]
    value, households = geo.house_value(race)
    if path == PLACE_LONGITUDINAL:
        return f"{value:.3f}:{households:.3f}"
    return f"{value * 100:.1f}%:{households * 100:.1f}%"


def _urban_row(geo: Geo, path: str, values: dict[str, Value], bounds: dict[str, tuple],
               ids: dict[str, str]) -> str:  # fmt: skip
    """One line of an Urban file, in its header's order (quality as words in the
    longitudinal file)."""
    ranges = URBAN[path]
    qualities: dict[str, int] = {}
    cells = []
    for column in HEADERS[path]:
        if column in _ID_COLUMNS:
            cells.append(ids[column])
        elif column in ranges:
            cells.append(_text(values.get(column), ranges[column].fmt))
        elif column.endswith(("_lb", "_ub")):
            base = column[:-3]
            pair = bounds.get(base)
            r = ranges[base]
            cells.append(_text(None if pair is None else pair[column.endswith("_ub")],
                               r.bound_fmt or r.fmt))  # fmt: skip
        elif column.endswith("_quality"):
            base = QUALITY_OF.get(column, column[: -len("_quality")])
            if _is_na(values.get(base)):
                cells.append("NA")
                continue
            r = ranges[base]
            group = r.group or base
            if group not in qualities:
                first = next(v for k, v in ranges.items() if (v.group or k) == group)
                qualities[group] = geo.quality(group, first.quality)
            q = qualities[group]
            cells.append(QUALITY_WORDS[q] if path == PLACE_LONGITUDINAL else str(q))
        else:  # pragma: no cover - the tables and headers are written together
            raise AssertionError(f"{path}: no rule for column {column!r}")
    return ",".join(cells)


def _urban_recent_values(geo: Geo, path: str) -> tuple[dict[str, Value], dict[str, tuple]]:
    values: dict[str, Value] = {}
    bounds: dict[str, tuple] = {}
    ranges = URBAN[path]
    for column, r in ranges.items():
        if r.kind == "draw":
            values[column] = _draw(geo, column, r)
            if r.ci:
                bounds[column] = _interval(geo, values[column], r)  # type: ignore[arg-type]
    for column in ranges:
        if column in RACE_OF:
            values[column] = _race_text(geo, column, path)
        elif column == "count_homeless":
            share = float(values["share_homeless"])  # type: ignore[arg-type]
            values[column] = float(round(share * geo.population * STUDENTS_PER_RESIDENT))
            bounds[column] = _count_bounds(geo, values[column])  # type: ignore[arg-type]
    return values, bounds


def _urban_recent(world: World, path: str) -> str:
    level = "place" if path == PLACE_RECENT else "county"
    geos = world.places if level == "place" else world.counties
    lines = [",".join(HEADERS[path])]
    for geo in sorted(geos, key=lambda g: g.code):
        values, bounds = _urban_recent_values(geo, path)
        ids = {"state": STATE_FIPS, level: geo.code, "state_name": STATE_NAME,
               f"{level}_name": geo.name}  # fmt: skip
        lines.append(_urban_row(geo, path, values, bounds, ids))
    return "\n".join(lines) + "\n"


def _series(geo: Geo, column: str, r: Range) -> dict[int, float]:
    """A metric's yearly values. The real percentiles pool all years, so a geography's score
    places it in the middle year, and nominal growth and the peers' drift run from there; the
    demo city's trends run back from the last year, so its latest value is where it was put."""
    anchor = _draw(geo, column, r)
    middle = sum(r.years) / len(r.years)
    assert r.q is not None
    spread = r.q[3] - r.q[1]
    if geo.geo_id == CITY_GEO_ID:
        slope, pivot = DEMO_CITY_TRENDS.get(_concept(column), 0.0), max(r.years)
    else:
        slope, pivot = 0.02 * spread * float(geo.rng.standard_normal()), middle
    growth = NOMINAL_GROWTH.get(column, 1.0)
    out = {}
    for year in r.years:
        base = anchor * growth ** (year - middle) + slope * (year - pivot)
        if r.ci:  # sampling error, about the interval's half-width / 1.96
            scale = min(max(math.sqrt(POP_REF["place"] / geo.population), 0.3), 3.0)
            noise = r.ci * abs(base) * scale / 1.96
        else:
            noise = 0.04 * spread
        value = base + noise * float(geo.rng.standard_normal())
        # drift and noise stay within the table's ends; only the demo city's trends leave them
        low, high = (r.draw(u) * growth ** (year - middle) for u in (0.0, 1.0))
        if geo.geo_id == CITY_GEO_ID:
            low, high = min(low, base), max(high, base)
        value = min(max(value, low), high)
        top = r.hi - 1e-3 if r.ci and r.hi < INF else r.hi
        out[year] = min(max(value, r.lo), top)
    return out


def _urban_longitudinal(world: World) -> str:
    path = PLACE_LONGITUDINAL
    ranges = URBAN[path]
    rows: dict[tuple[int, str], str] = {}
    for geo in world.places:
        by_column = {c: _series(geo, c, r) for c, r in ranges.items() if r.kind == "draw"}
        base_pop = geo.population
        for year in YEARS:
            geo.population = round(base_pop * (1 + geo.growth) ** (year - YEARS[-1]))
            values: dict[str, Value] = {c: s.get(year) for c, s in by_column.items()}
            bounds = {c: _interval(geo, v, ranges[c]) for c, v in values.items()
                      if ranges[c].ci and not _is_na(v)}  # type: ignore[arg-type]  # fmt: skip
            for column, r in ranges.items():
                if year not in r.years:
                    continue
                if column in RACE_OF:
                    values[column] = _race_text(geo, column, path)
                elif column == "count_homeless":
                    share = float(values["share_homeless"])  # type: ignore[arg-type]
                    values[column] = float(round(share * geo.population * STUDENTS_PER_RESIDENT))
                    bounds[column] = _count_bounds(geo, values[column])  # type: ignore[arg-type]
                elif column == "ratio_high_low_ses_fb_friends":  # real file: exactly half
                    values[column] = _draw(geo, column, URBAN[PLACE_RECENT][column]) / 2
            acs = year in ACS_YEARS  # the 2020 rows have no ACS values and no subgroup
            ids = {"year": str(year), "state": STATE_FIPS, "place": geo.code,
                   "state_name": STATE_NAME, "place_name": geo.name,
                   "population": str(geo.population),
                   "subgroup_type": "tenure" if acs else "NA", "subgroup": "All" if acs else "NA"}
            rows[(year, geo.code)] = _urban_row(geo, path, values, bounds, ids)  # fmt: skip
        geo.population = base_pop
    lines = [",".join(HEADERS[path])] + [rows[k] for k in sorted(rows)]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# The Opportunity Insights files
# ----------------------------------------------------------------------------------------------

_OI_CELL = re.compile(r"(kfr|jail)_(pooled|black|hisp|white)_(pooled|female|male)_p25(_se)?")
_OI_COUNT = re.compile(r"(pooled|black|hisp|white)_(pooled|female|male)_count")


def _county_outcomes(world: World) -> str:
    lines = [",".join(HEADERS[COUNTY_OUTCOMES])]
    population_group = {"black": "black", "hisp": "hispanic", "white": "white"}
    gender_share = {"pooled": 1.0, "male": MALE_SHARE, "female": 1 - MALE_SHARE}
    for geo in world.counties:
        rng = geo.rng
        kfr_pp = OI_KFR.draw(geo.score("kfr_pooled_pooled_p25", +1))
        jail_pp = OI_JAIL.draw(geo.score("jail_pooled_pooled_p25", -1))
        counts: dict[tuple[str, str], float] = {}
        cells: dict[tuple[str, str], dict[str, float]] = {}
        for race, gender in OI_MEDIANS:
            kids = geo.kids * gender_share[gender]
            if race != "pooled":
                kids *= geo.races[population_group[race]] * KID_RACE_FACTOR[race]
            counts[race, gender] = kids
            kfr_m, jail_m = OI_MEDIANS[race, gender]
            base_kfr, base_jail = OI_MEDIANS["pooled", "pooled"]
            kfr = kfr_pp + (kfr_m - base_kfr) + (0 if race == gender == "pooled" else
                                                 0.012 * rng.standard_normal())  # fmt: skip
            jail = jail_pp * jail_m / base_jail * math.exp(0.2 * rng.standard_normal())
            n = max(kids, 1.0)
            kfr_se = 0.47 / math.sqrt(n)
            jail_se = 1.9 * math.sqrt(max(jail, 0.002) * (1 - jail) / n)
            cells[race, gender] = {
                "kfr": kfr, "kfr_se": min(max(kfr_se, OI_SE_LIMITS[0]), OI_SE_LIMITS[1]),
                "jail": jail, "jail_se": min(max(jail_se, OI_SE_LIMITS[0]), OI_SE_LIMITS[1]),
            }  # fmt: skip
        cz, czname = world.cz_of[geo.code]
        out = []
        for column in HEADERS[COUNTY_OUTCOMES]:
            if column in ("state", "county", "cz", "czname"):
                out.append({"state": str(int(STATE_FIPS)), "county": str(int(geo.code)),
                            "cz": str(cz), "czname": czname}[column])  # fmt: skip
            elif m := _OI_CELL.fullmatch(column):
                outcome, race, gender, se = m.groups()
                small = counts[race, gender] < OI_MIN_CELL
                key = outcome + ("_se" if se else "")
                out.append("" if small else _stata(cells[race, gender][key]))
            elif m := _OI_COUNT.fullmatch(column):
                kids = counts[m.group(1), m.group(2)]
                out.append("" if kids < OI_MIN_CELL else _stata(kids))
            else:  # pragma: no cover
                raise AssertionError(column)
        lines.append(",".join(out))
    return "\n".join(lines) + "\n"


def _social_capital(world: World, path: str) -> str:
    ranges = SOCIAL_CAPITAL[path]
    geos = world.counties if path == SOCIAL_CAPITAL_COUNTY else world.zips
    ec_range = URBAN[COUNTY_RECENT]["ratio_high_low_ses_fb_friends"]
    lines = [",".join(HEADERS[path])]
    for geo in sorted(geos, key=lambda g: int(g.geo_id)):
        out = []
        for column in HEADERS[path]:
            if column == "county":
                out.append(str(int(geo.geo_id if geo.level == "county"
                                   else STATE_FIPS + geo.county_code)))  # fmt: skip
            elif column == "zip":
                out.append(str(int(geo.code)))
            elif column == "county_name":
                short = geo.name.replace(" County", "")
                out.append(f'"{short}, {STATE_NAME}"')
            elif column == "num_below_p50":
                out.append(_stata(geo.kids) if geo.level == "county" else repr(geo.kids))
            elif column == "pop2018":
                out.append(str(geo.population))
            elif column == "ec_county":  # the Urban county file's economic connectedness
                out.append(_stata(_draw(geo, "ratio_high_low_ses_fb_friends", ec_range), 5))
            else:
                r = ranges[column]
                if r.kind == "se":
                    assert r.q is not None
                    shrink = (SE_REF_KIDS[path] / max(geo.kids, 1.0)) ** 0.35
                    value = r.q[2] * shrink * math.exp(0.15 * geo.rng.standard_normal())
                    value = min(max(value, r.q[0] * 0.8), r.q[4] * 1.5)
                else:
                    value = _draw(geo, column, r)
                out.append(_stata(value, 5))
        lines.append(",".join(out))
    return "\n".join(lines) + "\n"


def _tract_outcomes(world: World) -> dict[str, dict[str, float | None]]:
    """Each tract's Atlas values (None when the publisher would leave them blank)."""
    rng = world.rng
    out: dict[str, dict[str, float | None]] = {}
    for t in world.tracts:
        def at(name: str, noise: float = 0.3, t: Tract = t) -> float:
            u = _phi(t.advantage + noise * float(rng.standard_normal()))
            return TRACT_RANGES[name].draw(u)

        values: dict[str, float | None] = {
            "kfr_dollars": float(round(at("kfr_dollars"))),
            "top20": round(at("top20", 0.45), 4),
            "kir_pooled_p25": at("kir_pooled_p25"),
            "kir_white_p25": at("kir_white_p25", 0.4),
            "kir_black_p25": at("kir_black_p25", 0.4),
            "hhinc_mean2000": at("hhinc_mean2000", 0.5),
        }
        if t.kids_white < TRACT_MIN_KIDS:
            values["kir_white_p25"] = None
        if t.kids_black < TRACT_MIN_KIDS:
            values["kir_black_p25"] = None
        if t.tractce == AIRPORT_TRACT:
            values = dict.fromkeys(values)
        out[t.geoid] = values
    return out


def _tract_web_download(world: World, outcomes: dict, path: str) -> str:
    """The Atlas web tool's download: BOM, rows sorted by value (blanks last), names quoted."""
    key = "kfr_dollars" if path == TRACT_KFR else "top20"
    header = HEADERS[path]
    rows = []
    for t in world.tracts:
        value = outcomes[t.geoid][key]
        name = f'"{t.name}"' if t.name else ""
        text = "" if value is None else _text(value, "int" if key == "kfr_dollars" else "4dp")
        rows.append((value is None, -(value or 0.0), t.geoid, f"{int(t.geoid)},{name},{text}"))
    body = "\n".join(r[-1] for r in sorted(rows))
    if path == TRACT_KFR:  # quoted header, no newline at the end
        return "\ufeff" + ",".join(f'"{c}"' for c in header) + "\n" + body
    return "\ufeff" + ",".join(header) + "\n" + body + "\n"


def _tract_collapse(world: World, outcomes: dict) -> str:
    lines = [",".join(HEADERS[TRACT_COLLAPSE])]
    for t in world.tracts:
        v = outcomes[t.geoid]
        lines.append(",".join([
            str(int(STATE_FIPS)), str(int(COUNTY_CODE)), str(int(t.tractce)),
            _stata(v["kir_black_p25"]), _stata(v["kir_pooled_p25"]), _stata(v["kir_white_p25"]),
            str(t.kids), str(t.kids_white), str(t.kids_black),
        ]))  # fmt: skip
    return "\r\n".join(lines) + "\r\n"


def _tract_covariates(world: World, outcomes: dict) -> str:
    lines = [",".join(HEADERS[TRACT_COVARIATES])]
    for t in world.tracts:
        lines.append(f"{int(t.tractce)},{int(COUNTY_CODE)},{int(STATE_FIPS)},"
                     f"{_stata(outcomes[t.geoid]['hhinc_mean2000'])}")  # fmt: skip
    return "\r\n".join(lines) + "\r\n"


def _cz_crosswalk(world: World) -> str:
    lines = [",".join(HEADERS[CZ_CROSSWALK])]
    for geo in sorted(world.counties, key=lambda g: (world.cz_of[g.code][0], g.code)):
        cz, name = world.cz_of[geo.code]
        lines.append(f"{cz},{int(STATE_FIPS)},{int(geo.code)},{name}")
    return "\r\n".join(lines) + "\r\n"


def _round_count(n: float) -> int:
    step = 500 if n >= 10_000 else 100 if n >= 1_000 else 50
    return max(step, round(n / step) * step)


def _national_collapse(world: World) -> str:
    rng = world.rng
    log_n = {key: np.polyfit([1, 50, 100], np.log(row[3:]), 2) for key, row in NATIONAL_KIR.items()}
    lines = [",".join(HEADERS[NATIONAL_COLLAPSE])]
    for p in range(1, 101):
        for (race, gender), (c0, c1, c2, *_) in NATIONAL_KIR.items():
            kir = c0 + c1 * p + c2 * p * p + 0.5 * float(rng.standard_normal())
            n = _round_count(float(np.exp(np.polyval(log_n[race, gender], p))))
            lines.append(f"{p},{race},{gender},{n},{_stata(kir, 2)}")
    return "\r\n".join(lines) + "\r\n"


# ----------------------------------------------------------------------------------------------
# Geometry and the label
# ----------------------------------------------------------------------------------------------


def _tract_label(tractce: str) -> str:
    """The NAME property: ``"000701"`` → ``"7.01"``, ``"006000"`` → ``"60"``."""
    whole, part = str(int(tractce[:4])), tractce[4:]
    return whole if part == "00" else f"{whole}.{part}"


def _geometry(world: World) -> str:
    """Cartographic-boundary tracts as the real state files are laid out: one feature a line."""
    features = []
    for t in world.tracts:
        feature = {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in t.ring]]},
            "properties": {
                "STATEFP": STATE_FIPS, "COUNTYFP": COUNTY_CODE, "TRACTCE": t.tractce,
                "AFFGEOID": "1400000US" + t.geoid, "GEOID": t.geoid,
                "NAME": _tract_label(t.tractce), "LSAD": "CT", "ALAND": t.aland,
                "AWATER": t.awater,
            },
        }  # fmt: skip
        features.append(json.dumps(feature, separators=(",", ":")))
    return '{"type":"FeatureCollection", "features": [\n' + ",\n".join(features) + "\n]}"


def _readme(seed: int) -> str:
    return f"""SYNTHETIC DATA - NOT REAL

Every file in this folder was generated by Upward's demo city generator
(upward.demo.generate.write_demo_files, seed {seed}). None of it describes a real place,
person or program. It exists so that Upward can be tried, taught and tested offline.

The files have exactly the file names, headers and value formats of the real publishers'
files (Urban Institute Upward Mobility metrics, Opportunity Insights' Opportunity Atlas and
Social Capital Atlas, Census cartographic boundary tracts), so that the same loaders read
them. The values are invented: drawn from ranges that look like the real national
distributions, with a made-up city placed on purpose to be weak on some metrics and strong
on others.

All geography is in state FIPS {STATE_FIPS} ("{STATE_NAME}", postal code {STATE_ABBR}), a code
the Census Bureau never assigns, and ZIP codes 99951-99998, which USPS does not use:
  - the demo city: "{CITY_NAME}", place {CITY_GEO_ID}
  - its county: "{COUNTY_NAME}", county {COUNTY_GEO_ID}
  - {N_PEER_PLACES} peer places ("Peerville NN city") and {N_PEER_COUNTIES} peer counties
    ("Peer County NN (synthetic)")
Do not mix these files with real data, and do not cite any number in them.
"""


def _render(seed: int) -> dict[str, bytes]:
    world = _build_world(seed)
    outcomes = _tract_outcomes(world)
    texts: dict[str, Callable[[], str]] = {
        PLACE_RECENT: lambda: _urban_recent(world, PLACE_RECENT),
        COUNTY_RECENT: lambda: _urban_recent(world, COUNTY_RECENT),
        PLACE_LONGITUDINAL: lambda: _urban_longitudinal(world),
        COUNTY_OUTCOMES: lambda: _county_outcomes(world),
        SOCIAL_CAPITAL_COUNTY: lambda: _social_capital(world, SOCIAL_CAPITAL_COUNTY),
        SOCIAL_CAPITAL_ZIP: lambda: _social_capital(world, SOCIAL_CAPITAL_ZIP),
        TRACT_KFR: lambda: _tract_web_download(world, outcomes, TRACT_KFR),
        TRACT_TOP20: lambda: _tract_web_download(world, outcomes, TRACT_TOP20),
        TRACT_COLLAPSE: lambda: _tract_collapse(world, outcomes),
        TRACT_COVARIATES: lambda: _tract_covariates(world, outcomes),
        CZ_CROSSWALK: lambda: _cz_crosswalk(world),
        NATIONAL_COLLAPSE: lambda: _national_collapse(world),
        TRACT_GEOMETRY: lambda: _geometry(world),
        README: lambda: _readme(seed),
    }
    return {path: texts[path]().encode("utf-8") for path in DEMO_FILES}


def write_demo_files(out_dir: Path, *, seed: int = DEFAULT_SEED) -> DemoManifest:
    """Write the synthetic demo city's files under ``out_dir``, laid out like ``../shared/data``.

    Everything is generated in memory first, then each file is written to a temporary name and
    moved into place, so a failure leaves no half-written file. Existing files of the same
    names are replaced; other files in ``out_dir`` are left alone.

    Parameters
    ----------
    out_dir : Path
        The folder to write (created if missing).
    seed : int, default 2024
        Seed of the ``numpy`` PCG64 generator; the same seed gives byte-identical files.

    Returns
    -------
    DemoManifest
        The folder, the demo city's and county's GEOIDs, the city's name, the files written.

    Raises
    ------
    ConfigError
        If ``seed`` is not a non-negative integer.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> m = write_demo_files(pathlib.Path(tempfile.mkdtemp()), seed=7)
    >>> [p.name for p in m.files][:2]
    ['mobility-metrics_place_recent.csv', 'mobility-metrics_county_recent.csv']
    >>> print((m.root / "README-SYNTHETIC.txt").read_text().splitlines()[0])
    SYNTHETIC DATA - NOT REAL
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed {seed!r} is not a non-negative integer",
                          fix="give a whole number such as --seed 2024")  # fmt: skip
    root = Path(out_dir)
    contents = _render(int(seed))
    written = []
    for rel, data in contents.items():
        written.append(atomic_write(root / rel, data))
    return DemoManifest(root, CITY_GEO_ID, COUNTY_GEO_ID, CITY_NAME, tuple(written), int(seed))
