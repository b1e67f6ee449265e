"""The one way reports make HTML: Jinja templates in ``report/templates`` with autoescape on,
in the current language (``upward.report.i18n``: ``{{ _("…") }}``, ``{% trans %}``, and the
``num`` filter for numbers written by the layers below).

Values passed to a template are escaped unless they are already HTML (``markupsafe.Markup``,
or the ``safe`` filter on a chart's own HTML).

Examples
--------
>>> render("_table.html", columns=["Year"], rows=[[("Year", "<2021>")]], caption="A & B",
...        numeric=set(), row_headers=True).splitlines()[1]
'<caption>A &amp; B</caption>'
"""

from __future__ import annotations

from functools import cache

import jinja2


@cache
def environment() -> jinja2.Environment:
    """The report templates' environment: autoescape, undefined names are errors.

    >>> environment().autoescape("page.html")
    True
    """
    from upward.report.i18n import gettext, localise_numbers, ngettext, tr

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("upward.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(gettext, ngettext, newstyle=False)
    env.filters["num"] = lambda text: localise_numbers(str(text))
    env.globals["tr"] = tr
    return env


def render(template: str, **context) -> str:
    """Render one template of ``report/templates`` with ``context``.

    >>> render("page.html", lang="en", title="T & U", subtitle=None, css="", script="",
    ...        body="", footer="").count("T &amp; U")
    2
    """
    return environment().get_template(template).render(**context)
