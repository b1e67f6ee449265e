"""Peers a city will accept (#12.3): comparable size, incomes and region, explained, and saved
per workspace from the CLI and the web form; on the real public files."""

from __future__ import annotations

import math

import pytest
from tests.conftest import needs_data, run_cli
from tests.support.built import copy_build

pytestmark = [needs_data, pytest.mark.realdata]


def test_automatic_peers_are_comparable_and_explained(real_warehouse):
    from upward.diagnose.peers import SIZE_FACTOR, choose_peers, covariate_table
    from upward.geo.resolve import resolve
    from upward.measure import frames

    table = covariate_table(real_warehouse, "place")
    for query in ("Tulsa, OK", "Racine, WI", "Lansing, MI"):
        target = resolve(query, frames.named_geographies(real_warehouse))
        me = table.loc[target.geo_id]
        peers = choose_peers(real_warehouse, target, 10)
        assert len(peers.peers) == 10
        for p in peers.peers:
            row = table.loc[p.geo_id]
            assert 1 / SIZE_FACTOR <= row["population"] / me["population"] <= SIZE_FACTOR
            assert f"({me['population']:,.0f})" in p.why and "median income" in p.why
        # the median incomes of the peers are closer to the target's than all places' are
        gap = [abs(math.log(table.at[p.geo_id, "pctl_income_50"] / me["pctl_income_50"]))
               for p in peers.peers]
        everyone = (table["pctl_income_50"] / me["pctl_income_50"]).apply(math.log).abs()
        assert sum(gap) / len(gap) < everyone.median()
    tulsa = resolve("Tulsa, OK", frames.named_geographies(real_warehouse))
    names = [p.name for p in choose_peers(real_warehouse, tulsa, 10).peers]
    assert not {"Plano city, Texas", "Frisco city, Texas", "McKinney city, Texas"} & set(names)


@pytest.fixture
def writable(real_workspace, tmp_path):
    from upward.warehouse.workspace import Workspace

    return Workspace.open(copy_build(real_workspace.root, tmp_path / "ws"))


def test_saved_peers_are_used_by_reports_and_the_web_form(writable):
    from fastapi.testclient import TestClient
    from tests.support.web import app_for

    done = run_cli("peers", "Racine, WI", "--set", "Kenosha, WI", "--set", "Green Bay, WI",
                   "-w", str(writable.root))
    assert done.returncode == 0, done.stderr
    assert (writable.root / "peers.toml").exists()
    out = run_cli("barriers", "Racine, WI", "-f", "json", "-w", str(writable.root))
    assert out.returncode == 0, out.stderr
    assert '"Kenosha city, Wisconsin"' in out.stdout and "saved for this workspace" in out.stdout
    client = TestClient(app_for(writable))
    page = client.get("/places/5566000/barriers")
    assert "Why these peers" in page.text and "Kenosha" in page.text
    assert client.get("/places/5566000/peers").status_code == 405  # POST only
    saved = client.post("/places/5566000/peers", data={"peers": "Lansing, MI\n5531000"},
                        follow_redirects=False)
    assert saved.status_code == 303
    page = client.get("/places/5566000/barriers")
    assert "Lansing city" in page.text and "Kenosha city" not in page.text.split(
        'id="peers-heading"')[1].split("</table>")[0]
    bad = client.post("/places/5566000/peers", data={"peers": "Racine, WI"})
    assert bad.status_code == 422
    client.post("/places/5566000/peers", data={"peers": ""})
    assert "nearest" in client.get("/api/places/5566000/barriers").json()["peers"]["method"]
