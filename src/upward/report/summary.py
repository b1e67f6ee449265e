"""The plain-language summary as HTML: each sentence linked to its evidence, jargon in
``<abbr title>`` with the definitions repeated as footnotes (printed pages have no hover).

Examples
--------
>>> from upward.diagnose.summary import Sentence, Summary
>>> s = Summary("Tulsa", [Sentence("Children (p25) do well.", "outcomes")],
...             {"p25": "parents at the 25th percentile"})
>>> html = summary_html(s, {"outcomes": "#outcomes"})
>>> '<abbr title="parents at the 25th percentile">p25</abbr>' in html
True
>>> 'href="#outcomes"' in html
True
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from upward.diagnose.summary import Summary

#: The words of each evidence link.
EVIDENCE_WORDS = {
    "scorecard": "the scorecard",
    "outcomes": "the Opportunity Atlas outcomes",
    "barriers": "the barriers",
    "disparities": "the gaps between groups",
    "neighbourhoods": "the neighbourhoods",
}


def _with_terms(text: str, terms: dict[str, str], used: set[str]) -> str:
    """Escape a sentence and wrap the first use of each glossary term in ``<abbr>``, in one
    pass over the text (a definition is never searched for terms).

    >>> _with_terms("p25 and kfr, p25", {"p25": "low income", "kfr": "rank"}, set())
    '<abbr title="low income">p25</abbr> and <abbr title="rank">kfr</abbr>, p25'
    """
    if not terms:
        return str(escape(text))
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(t) for t in
                                               sorted(terms, key=len, reverse=True)) + r")(?!\w)")
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(str(escape(text[last:m.start()])))
        term = m.group(0)
        if term in used:
            out.append(str(escape(term)))
        else:
            used.add(term)
            out.append(f'<abbr title="{escape(terms[term])}">{escape(term)}</abbr>')
        last = m.end()
    out.append(str(escape(text[last:])))
    return "".join(out)


def summary_html(summary: Summary, links: dict[str, str], *, heading_id: str = "summary",
                 heading_level: int = 2) -> Markup:
    """The summary section: a heading, one paragraph of linked sentences, the definitions."""
    used: set[str] = set()
    parts = []
    for s in summary.sentences:
        body = _with_terms(s.text, summary.terms, used)
        href = links.get(s.evidence)
        if href:
            words = EVIDENCE_WORDS.get(s.evidence, s.evidence)
            body += (f' <a class="evidence" href="{escape(href)}">(evidence: '
                     f'{escape(words)})</a>')
        parts.append(f'<span class="summary-sentence" data-evidence="{escape(s.evidence)}">'
                     f"{body}</span>")
    h = f"h{heading_level}"
    html = [f'<section class="summary" aria-labelledby="{heading_id}">',
            f'<{h} id="{heading_id}">In brief</{h}>',
            "<p>" + " ".join(parts) + "</p>"]
    if summary.terms:
        html.append('<dl class="terms small">')
        for term, definition in summary.terms.items():
            html.append(f"<dt>{escape(term)}</dt><dd>{escape(definition)}</dd>")
        html.append("</dl>")
    html.append("</section>")
    return Markup("\n".join(html))
