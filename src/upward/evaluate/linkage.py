"""Linking a program roster to outcome records (wage, benefit, school records a city obtains
under a data-sharing agreement) by probabilistic record linkage, with Splink on DuckDB.

**What is compared in clear and what is hashed.** A keyed hash (``IdHasher``, HMAC-SHA256)
turns "Jon" and "John" into unrelated strings, so names, dates and addresses cannot be
compared fuzzily once hashed. The comparison therefore runs on the clear values, inside the
restricted workspace's process: both files are read into memory and into an *in-memory* DuckDB
connection (nothing with a name in it is written to disk), compared field by field
(Jaro-Winkler for names, edit distance for dates and addresses, equality for codes), scored by
a Fellegi-Sunter model whose parameters Splink estimates without labels (u by random sampling,
m by expectation maximisation). What leaves the linkage is hashed or dropped: the compared
fields are removed, the roster identifier is replaced by its keyed hash, the outcome file's
identifier is not kept, and only the outcome columns named and the match probability are
attached to each roster record.

**Match quality.** Each roster record is linked to at most one outcome record and each
outcome record to at most one roster record (greedy by match probability). With ``p`` the
model's match probability of each candidate pair, the expected number of true matches among
the pairs accepted at a threshold is ``Σ p`` over them, and among all candidate pairs ``Σ p``
over all: estimated precision = Σ_accepted p / accepted, estimated recall = Σ_accepted p /
Σ_all p. These are model-based estimates (they are as good as the model's calibration); the
FEBRL benchmark in the tests checks them against known true matches.

Examples
--------
>>> import pandas as pd
>>> roster = pd.DataFrame({"id": ["a", "b"], "first": ["jon", "mary"], "dob": ["1990-01-02",
...                        "1985-07-30"]})
>>> fields = [LinkField("first", "name"), LinkField("dob", "date")]
>>> normalised(roster, fields)["first"].tolist()
['jon', 'mary']
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.errors import ConfigError, InputFileError
from upward.core.results import JsonReport

#: How each kind of field is compared.
FIELD_KINDS = {
    "name": "Jaro-Winkler similarity at 0.92 and 0.88 (Splink NameComparison), exact first",
    "date": "exact, then Damerau-Levenshtein distance 1 or 2 on the date text (typos, swaps)",
    "text": "exact, then Levenshtein distance 1 or 2",
    "exact": "equal or not",
}
#: Thresholds at which the quality table reports estimated precision and recall.
QUALITY_THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99)
#: Candidate pairs below this probability are not kept (they could not be accepted anyway).
MIN_CANDIDATE_PROBABILITY = 0.01


@dataclass(frozen=True)
class LinkField:
    """One field compared between the files: its name in the roster, its kind, and its name
    in the outcome records (the same by default).

    >>> LinkField("dob", "date", "birth_date").outcome_column
    'birth_date'
    >>> LinkField("surname", "name").outcome_column
    'surname'
    """

    column: str
    kind: str
    outcome_name: str | None = None

    @property
    def outcome_column(self) -> str:
        """The field's column in the outcome records."""
        return self.outcome_name or self.column


@dataclass
class QualityRow(JsonReport):
    """Estimated precision, recall and F1 of the links accepted at one threshold.

    >>> q = quality_at(pd.DataFrame({"match_probability": [0.99, 0.95, 0.5, 0.1]}), 0.9)
    >>> q.threshold, q.links, round(q.f1, 3)
    (0.9, 2, 0.855)
    """

    threshold: float
    links: int
    precision: float | None
    recall: float | None
    f1: float | None


@dataclass
class LinkQuality(JsonReport):
    """The match-quality report: the threshold chosen and, at it and at others, how many
    links were accepted with the model's estimated precision and recall.

    >>> LinkQuality(0.9, 100, 80, 78, 0.97, 0.95, 0.96, [], "m").summary()[:60]
    'Linked 78 of 100 roster records to 80 outcome records at mat'
    """

    threshold: float
    roster_records: int
    outcome_records: int
    linked: int
    precision: float | None
    recall: float | None
    f1: float | None
    by_threshold: list[QualityRow]
    method: str
    fields: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One sentence."""
        def pct(x: float | None) -> str:
            return "—" if x is None else f"{x:.1%}"

        return (f"Linked {self.linked:,} of {self.roster_records:,} roster records to "
                f"{self.outcome_records:,} outcome records at match probability ≥ "
                f"{self.threshold:g}: estimated precision {pct(self.precision)}, recall "
                f"{pct(self.recall)} (from the model's match probabilities)")


@dataclass
class LinkResult:
    """The roster with its linked outcome columns, and the quality report. ``pairs`` holds
    the one-to-one candidate pairs (internal row numbers and match probability), for
    checking against known truth.

    >>> q = LinkQuality(0.9, 2, 2, 1, 0.97, 0.95, 0.96, [], "m")
    >>> r = LinkResult(pd.DataFrame({"id": ["a", "b"], "earnings": [510.0, None]}), q,
    ...                pd.DataFrame({"left": [0], "right": [1], "match_probability": [0.97]}))
    >>> r.linked["earnings"].notna().sum() == r.quality.linked
    np.True_
    """

    linked: pd.DataFrame
    quality: LinkQuality
    pairs: pd.DataFrame


def normalise_text(value: object) -> str | None:
    """Lower case, accents and punctuation removed, spaces collapsed; blank → None.

    >>> normalise_text("  O'Brien-Smith ") , normalise_text("José"), normalise_text(" ")
    ('obrien smith', 'jose', None)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[-_/]+", " ", text)
    text = re.sub(r"[^a-z0-9 ]+", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text or None


def normalised(frame: pd.DataFrame, fields: list[LinkField], *, outcome: bool = False
               ) -> pd.DataFrame:
    """The compared fields of ``frame``, normalised for comparison (named as in the roster),
    with ``unique_id`` the row number (the same rules as :func:`normalise_text`, vectorised;
    dates as year-month-day digits when they parse).

    >>> normalised(pd.DataFrame({"n": ["A  B"]}), [LinkField("n", "name")]).to_dict("records")
    [{'unique_id': 0, 'n': 'a b'}]
    >>> normalised(pd.DataFrame({"d": ["1990-01-02", "19900102", "2 Jan 1990", "x"]}),
    ...            [LinkField("d", "date")])["d"].tolist()
    ['19900102', '19900102', '19900102', 'x']
    """
    out = pd.DataFrame({"unique_id": np.arange(len(frame))})
    for f in fields:
        values = frame[f.outcome_column if outcome else f.column].reset_index(drop=True)
        text = _normalise_series(values)
        if f.kind == "date":
            digits = values.astype("string").str.replace(r"\D", "", regex=True)
            plain = (digits.str.len().eq(8) & digits.str[:2].isin(["19", "20"])).fillna(False)
            parsed = pd.to_datetime(values.where(~plain).astype("string"), errors="coerce",
                                    format="mixed").dt.strftime("%Y%m%d")
            text = digits.where(plain, parsed.where(parsed.notna(), text))
        out[f.column] = text.astype(object).where(text.notna(), None).to_numpy()
    return out


def _normalise_series(values: pd.Series) -> pd.Series:
    text = (values.astype("string").str.normalize("NFKD")
            .str.encode("ascii", "ignore").str.decode("ascii").str.lower()
            .str.replace(r"[-_/]+", " ", regex=True).str.replace(r"[^a-z0-9 ]+", "", regex=True)
            .str.replace(r"\s+", " ", regex=True).str.strip())
    return text.where(text.ne("") & text.notna(), pd.NA)


def check_fields(roster: pd.DataFrame, outcomes: pd.DataFrame, fields: list[LinkField], *,
                 roster_name: str = "roster", outcomes_name: str = "outcomes") -> None:
    """Refuse a field of an unknown kind or missing from a file.

    >>> check_fields(pd.DataFrame({"a": []}), pd.DataFrame({"a": []}), [LinkField("a", "fuzzy")])
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: link field 'a': kind 'fuzzy' is not one of name, date, text, exact. What to do: ...
    """
    if not fields:
        raise ConfigError("no fields to compare", fix="list the fields both files hold, e.g. "
                          "first_name: name, last_name: name, birth_date: date")
    for f in fields:
        if f.kind not in FIELD_KINDS:
            raise ConfigError(f"link field {f.column!r}: kind {f.kind!r} is not one of "
                              f"{', '.join(FIELD_KINDS)}",
                              fix="name: names; date: dates of birth; text: addresses; exact: "
                              "codes such as ZIP")
        if f.column not in roster.columns:
            raise InputFileError(roster_name, f"column {f.column!r} (a link field) is missing",
                                 column=f.column, fix=f"columns: {', '.join(roster.columns)}")
        if f.outcome_column not in outcomes.columns:
            raise InputFileError(outcomes_name, f"column {f.outcome_column!r} (a link field) "
                                 "is missing", column=f.outcome_column,
                                 fix=f"columns: {', '.join(outcomes.columns)}")


def _comparisons(fields: list[LinkField]) -> list:
    import splink.comparison_library as cl

    made = []
    for f in fields:
        if f.kind == "name":
            made.append(cl.NameComparison(f.column))
        elif f.kind == "date":
            made.append(cl.DamerauLevenshteinAtThresholds(f.column, [1, 2]))
        elif f.kind == "text":
            made.append(cl.LevenshteinAtThresholds(f.column, [1, 2]))
        else:
            made.append(cl.ExactMatch(f.column))
    return made


def score_pairs(left: pd.DataFrame, right: pd.DataFrame, fields: list[LinkField], *,
                seed: int = 20261201, max_pairs: float = 3e5) -> pd.DataFrame:
    """Candidate pairs (``left``, ``right`` row numbers) with Splink's match probability, from
    a model trained without labels on the two normalised tables (in-memory DuckDB).

    Blocking (:func:`blocking_columns`): pairs agreeing exactly on a date field, or on any
    two fields; other pairs are not considered. Training: λ from pairs agreeing on every field (recall assumed 0.7),
    u by random sampling, m by EM blocked on the first two fields in turn.
    """
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    for name in ("splink", "duckdb"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    db = DuckDBAPI(con)
    tables = [db.register(left, dataset_display_name="roster"),
              db.register(right, dataset_display_name="outcomes")]
    columns = [f.column for f in fields]
    settings = SettingsCreator(
        link_type="link_only", comparisons=_comparisons(fields),
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in
                                                blocking_columns(fields)],
        retain_matching_columns=False, retain_intermediate_calculation_columns=False)
    linker = Linker(tables, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*columns)], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    for rule in training_rules(fields):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule))
        except Exception as exc:  # Splink raises its own errors for untrainable blocks
            raise ConfigError(f"the linkage model could not be trained blocked on {rule} "
                              f"({exc.__class__.__name__}: {str(exc).splitlines()[0][:200]})",
                              fix="compare more fields, or put a field that identifies "
                              "people well (a date of birth, a surname) first") from None
    scored = linker.inference.predict(threshold_match_probability=MIN_CANDIDATE_PROBABILITY)
    pairs = scored.as_pandas_dataframe()
    flip = pairs["source_dataset_l"] != "roster"
    left_id = np.where(flip, pairs["unique_id_r"], pairs["unique_id_l"]).astype(int)
    right_id = np.where(flip, pairs["unique_id_l"], pairs["unique_id_r"]).astype(int)
    return pd.DataFrame({"left": left_id, "right": right_id,
                         "match_probability": pairs["match_probability"].astype(float)})


def blocking_columns(fields: list[LinkField]) -> list[tuple[str, ...]]:
    """The blocking rules: each date field alone (dates of birth are nearly unique), and every
    two fields together (a field such as a ZIP code alone would pair far too many records).
    With a single field, that field alone.

    >>> blocking_columns([LinkField("a", "name"), LinkField("b", "date"), LinkField("c", "exact")])
    [('b',), ('a', 'b'), ('a', 'c'), ('b', 'c')]
    """
    if len(fields) == 1:
        return [(fields[0].column,)]
    rules: list[tuple[str, ...]] = [(f.column,) for f in fields if f.kind == "date"]
    for i, f in enumerate(fields):
        rules += [(f.column, g.column) for g in fields[i + 1:]]
    return rules


def training_rules(fields: list[LinkField]) -> list[tuple[str, ...]]:
    """The blocking rules EM is trained on: the first blocking rule, then the first one that
    shares no field with it (so every field's parameters are estimated in one of the two),
    each of which pairs few records.

    >>> training_rules([LinkField("a", "name"), LinkField("b", "name"), LinkField("d", "date")])
    [('d',), ('a', 'b')]
    >>> training_rules([LinkField("a", "name")])
    [('a',)]
    """
    rules = blocking_columns(fields)
    first = rules[0]
    other = next((r for r in rules[1:] if not set(r) & set(first)), None)
    return [first] if other is None else [first, other]


def one_to_one(pairs: pd.DataFrame) -> pd.DataFrame:
    """Keep each left and each right record in at most one pair, best probability first.

    >>> p = pd.DataFrame({"left": [0, 0, 1], "right": [5, 6, 5],
    ...                   "match_probability": [0.9, 0.8, 0.7]})
    >>> one_to_one(p)[["left", "right"]].values.tolist()
    [[0, 5]]
    """
    ordered = pairs.sort_values(["match_probability", "left", "right"],
                                ascending=[False, True, True])
    used_left: set[int] = set()
    used_right: set[int] = set()
    keep = []
    for i, left, right in zip(ordered.index, ordered["left"], ordered["right"], strict=True):
        if left in used_left or right in used_right:
            continue
        used_left.add(left)
        used_right.add(right)
        keep.append(i)
    return ordered.loc[keep].reset_index(drop=True)


def quality_at(pairs: pd.DataFrame, threshold: float) -> QualityRow:
    """Estimated precision, recall and F1 of the pairs at or above ``threshold``.

    >>> p = pd.DataFrame({"match_probability": [0.99, 0.95, 0.5, 0.1]})
    >>> q = quality_at(p, 0.9)
    >>> q.links, round(q.precision, 3), round(q.recall, 3)
    (2, 0.97, 0.764)
    """
    p = pairs["match_probability"].to_numpy(dtype=float)
    accepted = p >= threshold
    expected_all = p.sum()
    expected_tp = p[accepted].sum()
    precision = expected_tp / accepted.sum() if accepted.any() else None
    recall = expected_tp / expected_all if expected_all > 0 else None
    f1 = (2 * precision * recall / (precision + recall)
          if precision is not None and recall and precision + recall > 0 else None)
    return QualityRow(float(threshold), int(accepted.sum()), _float(precision), _float(recall),
                      _float(f1))


def _float(x) -> float | None:
    return None if x is None else float(x)


def link_records(roster: pd.DataFrame, outcomes: pd.DataFrame, fields: list[LinkField], *,
                 outcome_columns: list[str], threshold: float | str = 0.9,
                 roster_name: str = "roster", outcomes_name: str = "outcomes",
                 seed: int = 20261201) -> LinkResult:
    """Link each roster record to at most one outcome record and attach ``outcome_columns``
    (NaN where no link reaches ``threshold``; ``"auto"`` picks the threshold with the best
    estimated F1). The compared fields are dropped from the result; the roster's other
    columns (its identifier included, hashed later by the evaluation) are kept.
    """
    check_fields(roster, outcomes, fields, roster_name=roster_name, outcomes_name=outcomes_name)
    missing = [c for c in outcome_columns if c not in outcomes.columns]
    if missing:
        raise InputFileError(outcomes_name, f"column {missing[0]!r} (an outcome to bring) is "
                             "missing", column=missing[0],
                             fix=f"columns: {', '.join(outcomes.columns)}")
    clash = [c for c in outcome_columns if c in roster.columns]
    if clash:
        raise ConfigError(f"outcome column {clash[0]!r} is also a roster column",
                          fix="rename it in one of the files")
    if len(roster) == 0 or len(outcomes) == 0:
        empty = roster_name if len(roster) == 0 else outcomes_name
        raise InputFileError(empty, "has no records", fix="give a file with records")
    pairs = one_to_one(score_pairs(normalised(roster, fields),
                                   normalised(outcomes, fields, outcome=True), fields,
                                   seed=seed))
    rows = [quality_at(pairs, t) for t in QUALITY_THRESHOLDS]
    if threshold == "auto":
        scored = [r for r in rows if r.f1 is not None]
        chosen = max(scored, key=lambda r: r.f1).threshold if scored else 0.9
    else:
        chosen = float(threshold)
        if not 0 < chosen < 1:
            raise ConfigError(f"link threshold {threshold} must be between 0 and 1",
                              fix="for example 0.9, or auto")
        if chosen not in QUALITY_THRESHOLDS:
            rows = sorted([*rows, quality_at(pairs, chosen)], key=lambda r: r.threshold)
    at = quality_at(pairs, chosen)
    accepted = pairs[pairs["match_probability"] >= chosen]
    linked = roster.drop(columns=[f.column for f in fields]).reset_index(drop=True)
    attach = outcomes[outcome_columns].reset_index(drop=True)
    for column in outcome_columns:
        linked[column] = pd.Series([None] * len(linked), dtype=object)
        linked.loc[accepted["left"].to_numpy(), column] = attach.loc[
            accepted["right"].to_numpy(), column].to_numpy()
    linked["match_probability"] = np.nan
    linked.loc[accepted["left"].to_numpy(), "match_probability"] = accepted[
        "match_probability"].to_numpy()
    notes = []
    if at.links < len(roster):
        notes.append(f"{len(roster) - at.links:,} roster records have no link at or above "
                     f"{chosen:g}; their outcomes are missing (reported as attrition)")
    quality = LinkQuality(
        threshold=chosen, roster_records=len(roster), outcome_records=len(outcomes),
        linked=at.links, precision=at.precision, recall=at.recall, f1=at.f1,
        by_threshold=rows,
        method="Fellegi-Sunter model estimated without labels by Splink (DuckDB, in memory); "
        "one-to-one links by match probability",
        fields=[{"field": f.column, "outcome_field": f.outcome_column, "kind": f.kind,
                 "comparison": FIELD_KINDS[f.kind]} for f in fields], notes=notes)
    return LinkResult(linked, quality, pairs)


def read_table(path: str | Path, options: dict | None = None) -> pd.DataFrame:
    """A roster or outcome file (CSV, Excel, Parquet) as text cells.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("id,name\\n1,Ann\\n")
    >>> read_table(p).to_dict("records")
    [{'id': '1', 'name': 'Ann'}]
    """
    from upward.evaluate.programs import read_program_file

    return read_program_file(path, options).cells


def link_for_spec(loaded) -> LinkResult:
    """Link the roster (``data:``) of a spec with a ``link:`` section to its outcome file
    (relative to the spec file), as the evaluation's data.
    """
    spec = loaded.spec
    link = spec.link
    outcomes_path = Path(link.outcomes)
    if not outcomes_path.is_absolute() and loaded.path is not None:
        outcomes_path = loaded.path.parent / outcomes_path
    fields = [LinkField(column, kind, link.outcome_fields.get(column))
              for column, kind in link.fields.items()]
    try:
        roster = read_table(spec.data, spec.options)
        outcomes = read_table(outcomes_path, spec.options)
        return link_records(roster, outcomes, fields, outcome_columns=list(link.columns),
                            threshold=link.threshold, roster_name=str(spec.data),
                            outcomes_name=str(outcomes_path), seed=spec.seed)
    except ConfigError as exc:
        raise ConfigError(f"{loaded.where('link')}: {exc.message}", fix=exc.fix) from None
