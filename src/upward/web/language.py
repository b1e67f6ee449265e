"""The language of a request: a path prefix (``/es/…``, ``/en/…``) chooses it for every route;
without one, the ``Accept-Language`` header does (and the response says ``Vary:
Accept-Language``). The prefix is taken off before routing, so each route is written once; the
pages put it back on their own links (``localise_links``) and redirects keep it.

Examples
--------
>>> split_prefix("/es/places/4075000"), split_prefix("/es"), split_prefix("/estates")
(('es', '/places/4075000'), ('es', '/'), (None, '/estates'))
>>> localise_links('<a href="/places/1">x</a> <img src="/static/a.svg"> <a href="/api/x">', "es")
'<a href="/es/places/1">x</a> <img src="/static/a.svg"> <a href="/api/x">'
"""

from __future__ import annotations

import re

from upward.report.i18n import DEFAULT_LANGUAGE, LANGUAGES, negotiate, set_language

#: Paths that are the same in every language (no prefix is added to links to them).
UNPREFIXED = ("/static/", "/api/", "/openapi.json", "/favicon")
_LINK = re.compile(r'(\s(?:href|action)=")(/(?!/)[^"]*)"')


def split_prefix(path: str) -> tuple[str | None, str]:
    """The language of a path's prefix (None without one) and the path without it.

    >>> split_prefix("/es/places/4075000"), split_prefix("/places/4075000")
    (('es', '/places/4075000'), (None, '/places/4075000'))
    """
    for lang in LANGUAGES:
        prefix = f"/{lang}"
        if path == prefix or path.startswith(prefix + "/"):
            return lang, path[len(prefix):] or "/"
    return None, path


def localised(path: str, lang: str | None) -> str:
    """``path`` in ``lang``'s part of the site (unchanged for English and language-free paths).

    >>> localised("/places/1?metric=m", "es"), localised("/api/metrics", "es"), localised("/", "en")
    ('/es/places/1?metric=m', '/api/metrics', '/')
    """
    if not lang or lang == DEFAULT_LANGUAGE or not path.startswith("/") \
            or path.startswith(UNPREFIXED) or split_prefix(path.split("?")[0])[0]:
        return path
    return f"/{lang}{path}" if path != "/" else f"/{lang}/"


def localise_links(html: str, lang: str) -> str:
    """Every site link (``href``/``action`` starting with ``/``) of a page, in ``lang``.

    >>> localise_links('<form action="/find"><a href="/metrics">m</a></form>', "es")
    '<form action="/es/find"><a href="/es/metrics">m</a></form>'
    >>> localise_links('<a href="/metrics">m</a>', "en")
    '<a href="/metrics">m</a>'
    """
    if lang == DEFAULT_LANGUAGE:
        return html
    return _LINK.sub(lambda m: f'{m.group(1)}{localised(m.group(2), lang)}"', html)


class LanguageMiddleware:
    """ASGI middleware: sets the request's language (``request.state.lang``, and the
    translations' context) from the path prefix or ``Accept-Language``.

    >>> from starlette.applications import Starlette
    >>> from starlette.responses import PlainTextResponse
    >>> from starlette.routing import Route
    >>> from starlette.testclient import TestClient
    >>> def where(request):
    ...     return PlainTextResponse(f"{request.state.lang} {request.url.path}")
    >>> client = TestClient(LanguageMiddleware(Starlette(routes=[Route("/metrics", where)])))
    >>> client.get("/es/metrics").text, client.get("/metrics").text
    ('es /metrics', 'en /metrics')
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lang, path = split_prefix(scope["path"])
        explicit = lang is not None
        if explicit:
            scope = {**scope, "path": path, "raw_path": path.encode()}
        else:
            headers = dict(scope.get("headers") or [])
            lang = negotiate(headers.get(b"accept-language", b"").decode("latin-1"))
        state = scope.setdefault("state", {})
        state["lang"], state["lang_explicit"] = lang, explicit
        set_language(lang)

        async def send_localised(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if explicit and lang != DEFAULT_LANGUAGE:
                    headers = [(k, localised(v.decode("latin-1"), lang).encode("latin-1"))
                               if k.lower() == b"location" else (k, v) for k, v in headers]
                if not explicit:
                    headers.append((b"vary", b"Accept-Language"))
                headers.append((b"content-language", lang.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_localised)


__all__ = ["UNPREFIXED", "LanguageMiddleware", "localise_links", "localised", "split_prefix"]
