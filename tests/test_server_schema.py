"""Schemathesis over the shared server's OpenAPI schema (the public API and the restricted
``/api/t/…`` routes), signed in with an analyst's API token: no server error, every status,
content type and body as the schema declares. The example count per operation is kept small
so the test stays quick; ``python -m bench server`` runs more.

(Schemathesis's own pytest plugin does not run on this pytest, so the test draws the cases
from each operation's Hypothesis strategy itself.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from tests.support.server import make_server, pilot_csv, upload

EXAMPLES = 6


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from upward.web.server.accounts import create_token

    server = make_server(tmp_path_factory.mktemp("schema"))
    upload(server, "ana", pilot_csv())
    _, token = create_token(server.engine, "ana", "schemathesis")
    return schemathesis.openapi.from_asgi("/openapi.json", server.app), token


#: The server's own operations (/api/t/…): no 5xx; status, content type, headers and body as
#: declared; a read the schema allows is not refused (an upload or an evaluation may be: the
#: file's content and columns are beyond what a schema can describe).
CONFORMANCE = [checks.not_a_server_error, checks.status_code_conformance,
               checks.content_type_conformance, checks.response_schema_conformance,
               checks.response_headers_conformance]
RESTRICTED = [*CONFORMANCE, checks.positive_data_acceptance]
#: The public operations, with the server's router mounted and a token sent: no 5xx. (Their
#: own conformance is the public API's tests' business.)
PUBLIC = [checks.not_a_server_error]


def checks_for(operation) -> list:
    """The checks an operation is held to."""
    if not operation.path.startswith("/api/t/"):
        return PUBLIC
    if operation.method.upper() == "POST":
        return CONFORMANCE
    return RESTRICTED


def _check(operation, token: str, examples: int, calls: list):
    chosen = checks_for(operation)

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        calls.append(operation.label)
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=chosen)

    return check


def run_operations(schema, token: str, examples: int) -> tuple[int, list[str]]:
    """Call every operation with ``examples`` generated cases; (calls, failures)."""
    failures: list[str] = []
    calls: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _check(operation, token, examples, calls)()
        except (Exception, BaseExceptionGroup) as exc:  # a failure, with its request
            failures.append(f"{operation.label}: {' '.join(str(exc).split())[:600]}")
    return len(calls), failures


def test_the_api_answers_as_its_schema_says(api):
    schema, token = api
    calls, failures = run_operations(schema, token, EXAMPLES)
    assert calls > 50
    assert failures == []
