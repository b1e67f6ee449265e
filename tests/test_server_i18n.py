"""The shared server's pages in Spanish (issue #12): sign-in, the account's workspaces, a
workspace's evaluations, program files (upload, preview, evaluation form), an evaluation and the
admin page come out under ``/es/`` with no English string of the catalog and, except the
evaluation's own method text, nothing marked ``lang="en"``; a failed sign-in says why in
Spanish. Against a real PostgreSQL server (tests/support/postgres.py)."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from tests import test_i18n as checks
from tests.support.server import make_server, pilot_csv

from upward.report import translations


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return make_server(tmp_path_factory.mktemp("server-es"))


@pytest.fixture(scope="module")
def spanish():
    return translations.read("es")


def _page(client: TestClient, path: str) -> BeautifulSoup:
    response = client.get("/es" + path)
    assert response.status_code == 200, (path, response.text[:300])
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.html["lang"] == "es"
    return soup


def _spanish(soup: BeautifulSoup, spanish, path: str, *, marked: bool = True) -> None:
    if marked:
        assert not checks._marked_english(soup), (path, checks._marked_english(soup))
    assert not checks._english_left(soup, spanish), (path, checks._english_left(soup, spanish))


def _csrf(soup: BeautifulSoup) -> str:
    return soup.select_one('input[name="csrf"]')["value"]


def test_the_server_pages_are_spanish(server, spanish):
    anonymous = TestClient(server.app)
    login = _page(anonymous, "/login")
    _spanish(login, spanish, "/login")
    assert login.h1.get_text() == "Iniciar sesión"
    assert login.select_one('label[for="password"]').get_text() == "Contraseña"

    ana = server.client("ana")
    for path in ("/account", "/t/tulsa", "/t/tulsa/programs"):
        soup = _page(ana, path)
        _spanish(soup, spanish, path)
    account = _page(ana, "/account")
    assert "Sus espacios de trabajo" in account.h1.get_text()
    assert account.select_one("tbody td:nth-of-type(2)").get_text() == "analista"
    assert "Todavía no hay evaluaciones." in _page(ana, "/t/tulsa").get_text()

    programs = _page(ana, "/t/tulsa/programs")
    r = ana.post("/es/t/tulsa/programs", data={"csrf": _csrf(programs)},
                 files={"file": ("pilot.csv", pilot_csv(1200), "text/csv")},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/es/t/tulsa/programs/")
    page = r.headers["location"].removeprefix("/es")
    preview = _page(ana, page)
    _spanish(preview, spanish, page)
    text = " ".join(preview.get_text().split())
    assert "1.200 registros, 4 columnas" in text and "Cargar este archivo" in text
    ana.post("/es" + page + "/confirm", data={"csrf": _csrf(preview)})
    form = _page(ana, page)
    _spanish(form, spanish, page)
    assert form.select_one('label[for="f-treatment"]').get_text() == "Columna del tratamiento (0/1)"
    r = ana.post("/es" + page + "/evaluate", data={
        "csrf": _csrf(form), "name": "piloto", "design": "rct", "outcome": "y",
        "treatment": "treated", "unit": "person"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    evaluation = r.headers["location"].removeprefix("/es")
    shown = _page(ana, evaluation)
    # the design's method and headline are the evaluation layer's English, marked as such
    _spanish(shown, spanish, evaluation, marked=False)
    labels = [th.get_text() for th in shown.select("tbody th")]
    assert labels[:4] == ["Diseño", "Estimando", "Estimación", "Error estándar"]
    assert re.fullmatch(r"Intervalo de confianza del 95\xa0%", labels[4])
    assert re.fullmatch(r"-?\d+,\d+ a -?\d+,\d+", shown.select("tbody td")[4].get_text())

    adm = server.client("adm")
    admin = _page(adm, "/t/tulsa/admin")
    _spanish(admin, spanish, "/t/tulsa/admin")
    assert [th.get_text() for th in admin.select("table")[0].select("thead th")] == [
        "Usuario", "Rol", "Cuenta"]


def test_a_failed_sign_in_says_why_in_spanish(server, spanish):
    c = TestClient(server.app)
    token = _csrf(_page(c, "/login"))
    r = c.post("/es/login", data={"username": "ana", "password": "not the password",
                                  "csrf": token, "next": "/account"})
    assert r.status_code == 401
    soup = BeautifulSoup(r.text, "html.parser")
    alert = soup.select_one('[role="alert"]').get_text()
    assert alert == ("el nombre de usuario o la contraseña no son correctos. Qué hacer: "
                     "inténtelo de nuevo; tras cinco fallos la cuenta espera 15 minutos")
    _spanish(soup, spanish, "/login")
