"""What kind of evidence a design gives: the kinds of design and the study-design categories of
the evidence library, each declared once.

An Upward design (``upward.evaluate.designs``) declares the category its results enter the
evidence library under; a published study names its category directly. The rating rules
(``upward.evidence.rating``) look at a category's ``kind``.

Examples
--------
>>> STUDY_DESIGNS["qed"].kind
<DesignKind.QUASI: 'quasi'>
>>> STUDY_DESIGNS["rd"].label
'Regression discontinuity'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DesignKind(StrEnum):
    """A design's kind: randomised experiment, regression discontinuity, quasi-experiment,
    correlational or descriptive study (what the rating rules look at).

    >>> DesignKind("randomised") is DesignKind.RANDOMISED
    True
    """

    RANDOMISED = "randomised"
    DISCONTINUITY = "discontinuity"
    QUASI = "quasi"
    CORRELATIONAL = "correlational"
    DESCRIPTIVE = "descriptive"


@dataclass(frozen=True)
class StudyDesign:
    """A study-design category of the evidence library: its key, the label pages show, its
    kind.

    >>> StudyDesign("rct", "Randomised controlled trial", DesignKind.RANDOMISED).kind
    <DesignKind.RANDOMISED: 'randomised'>
    """

    key: str
    label: str
    kind: DesignKind


#: The study-design categories, in the order the evidence schema lists them.
STUDY_DESIGNS: dict[str, StudyDesign] = {d.key: d for d in (
    StudyDesign("rct", "Randomised controlled trial", DesignKind.RANDOMISED),
    StudyDesign("cluster_rct", "Cluster-randomised trial", DesignKind.RANDOMISED),
    StudyDesign("rd", "Regression discontinuity", DesignKind.DISCONTINUITY),
    StudyDesign("qed", "Quasi-experimental comparison (matching, weighting, "
                "difference-in-differences, synthetic control)", DesignKind.QUASI),
    StudyDesign("correlational", "Correlational study with statistical controls",
                DesignKind.CORRELATIONAL),
    StudyDesign("descriptive", "Descriptive or pre-post study without a comparison group",
                DesignKind.DESCRIPTIVE),
)}


@dataclass(frozen=True)
class EvidenceCategory:
    """How a design's results enter the evidence library: the study-design category and the
    units it compares by default (``people`` — counts suppressed below the disclosure
    threshold when published — or ``places``).

    >>> EvidenceCategory("qed", "places").kind
    <DesignKind.QUASI: 'quasi'>
    >>> EvidenceCategory("anecdote")
    Traceback (most recent call last):
    ...
    ValueError: 'anecdote' is not a study design: use one of rct, cluster_rct, rd, qed, correlational, descriptive
    """

    study_design: str
    units: str = "people"

    def __post_init__(self) -> None:
        if self.study_design not in STUDY_DESIGNS:
            raise ValueError(f"{self.study_design!r} is not a study design: use one of "
                             f"{', '.join(STUDY_DESIGNS)}")

    @property
    def kind(self) -> DesignKind:
        """The kind of the category (randomised, quasi …)."""
        return STUDY_DESIGNS[self.study_design].kind
