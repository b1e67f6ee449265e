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
from upward.report.i18n import DEFAULT_LANGUAGE, N_, current_language, localise
from upward.report.i18n import gettext as _

#: The words of each evidence link.
EVIDENCE_WORDS = {
    "scorecard": N_("the scorecard"),
    "outcomes": N_("the Opportunity Atlas outcomes"),
    "barriers": N_("the barriers"),
    "disparities": N_("the gaps between groups"),
    "neighbourhoods": N_("the neighbourhoods"),
}

#: The glossary's terms that are words (the others, such as kfr and p25, are names), as the
#: translated sentences write them.
TERM_WORDS = (N_("percentile"), N_("peer"), N_("tract"))


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
    """The summary section: a heading, one paragraph of linked sentences, the definitions.

    The sentences and definitions come from ``upward.diagnose.summary`` in English, written
    from catalog messages (``upward.core.text``): in another language each is translated
    (``upward.report.i18n.localise``), and one without a translation is marked ``lang="en"``
    (the heading and links are translated).

    >>> from upward.diagnose.summary import Sentence, Summary
    >>> s = Summary("Tulsa", [Sentence("Tulsa is a city.", "scorecard")])
    >>> print(summary_html(s, {"scorecard": "#key-numbers"}, heading_id="brief", heading_level=3))
    <section class="summary" aria-labelledby="brief">
    <h3 id="brief">In brief</h3>
    <p><span class="summary-sentence" data-evidence="scorecard">Tulsa is a city. <a class="evidence" href="#key-numbers">(evidence: the scorecard)</a></span></p>
    </section>
    """
    other = current_language() != DEFAULT_LANGUAGE
    used: set[str] = set()
    parts = []
    terms = {(_(t) if t in TERM_WORDS else t): localise(d) or d
             for t, d in summary.terms.items()} if other else summary.terms
    english_terms = other and any(localise(d) is None for d in summary.terms.values())
    for s in summary.sentences:
        text = localise(s.text) if other else s.text
        english = ' lang="en"' if text is None else ""
        if text is None:
            text = s.text
        body = _with_terms(text, terms if not english else summary.terms, used)
        href = links.get(s.evidence)
        if href:
            words = _(EVIDENCE_WORDS.get(s.evidence, s.evidence))
            link = _("(evidence: {what})").format(what=words)
            body = (f'<span{english}>{body}</span>' if english else body) + (
                f' <a class="evidence" href="{escape(href)}">{escape(link)}</a>')
        elif english:
            body = f"<span{english}>{body}</span>"
        parts.append(f'<span class="summary-sentence" data-evidence="{escape(s.evidence)}">'
                     f"{body}</span>")
    h, heading = f"h{heading_level}", escape(_("In brief"))
    html = [f'<section class="summary" aria-labelledby="{heading_id}">',
            f'<{h} id="{heading_id}">{heading}</{h}>',
            "<p>" + " ".join(parts) + "</p>"]
    if summary.terms:
        html.append('<dl class="terms small"' + (' lang="en"' if english_terms else "") + ">")
        for term, definition in (summary.terms if english_terms else terms).items():
            html.append(f"<dt>{escape(term)}</dt><dd>{escape(definition)}</dd>")
        html.append("</dl>")
    html.append("</section>")
    return Markup("\n".join(html))
