"""kill -9 of the shared server under upload and evaluation load, and of `upward users add`,
at random moments: afterwards the database holds only whole program files, evaluations and
users, each with its audit entry, and the server starts again. (A few trials here;
``python -m bench.server --kills 20`` runs more.)"""

from __future__ import annotations

import random

import pytest
from tests.support.crash import (
    cli_kill_trial,
    free_port,
    kill,
    partial_data,
    server_kill_trial,
    start_server,
)
from tests.support.server import PASSWORD, make_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return make_server(tmp_path_factory.mktemp("crash"))


def test_the_server_killed_under_load_leaves_only_whole_data(server):
    from upward.web.server.accounts import create_token

    _, token = create_token(server.engine, "ana", "crash")
    rng = random.Random(14)
    acknowledged = [server_kill_trial(server.workspace, server.dsn, token, rng)
                    for _ in range(2)]
    assert partial_data(server.engine) == []
    assert server.count("datasets") >= sum(acknowledged)  # nothing acknowledged was lost
    proc = start_server(server.workspace, server.dsn, free_port())  # and it starts again
    kill(proc)


def test_users_add_killed_at_random_moments_leaves_no_half_user(server):
    rng = random.Random(41)
    for _ in range(3):
        cli_kill_trial(server.dsn, rng, PASSWORD)
    assert partial_data(server.engine) == []
