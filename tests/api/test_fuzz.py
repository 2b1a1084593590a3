"""The API fuzzed from its own OpenAPI schema (schemathesis's generators on hypothesis), on a bounded
budget: every operation, bodies, headers and query strings drawn from the schema and beyond it.

Whatever arrives: never a server error, Booth keeps answering, and without the token nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from tests.api.client import Client

EXAMPLES = 20  # per operation and test, valid and invalid cases mixed: 13 operations, about 10 s in all
WRONG = "not-the-token-0000000000000000000000000000"


def fuzz_each_operation(served, check: Callable) -> int:
    """Run `check(case)` on generated cases for every operation but the endless event stream."""
    document = Client(served.port, served.token).get("/openapi.json").body
    operations = [result.ok() for result in schemathesis.openapi.from_dict(document).get_all_operations()]
    ran = 0
    for operation in operations:
        if operation.path == "/events":
            continue  # an endless stream: tests/api/test_stream.py

        # Cases that follow the schema and cases that break it (wrong types, missing fields, junk).
        cases = st.one_of(*(operation.as_strategy(mode) for mode in GenerationMode))

        @given(case=cases)
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case) -> None:
            check(case)

        run()
        ran += 1
    return ran


def test_no_request_makes_a_server_error(served) -> None:
    client = Client(served.port, served.token)

    def check(case) -> None:
        response = case.call(base_url=f"http://127.0.0.1:{served.port}", timeout=10,
                             headers={"Authorization": f"Bearer {served.token}"})  # fmt: skip
        # 503 is "that part is not running" (this drop has no picture): an answer, not a crash.
        assert response.status_code < 500 or response.status_code == 503, (response.status_code, response.text)
        assert response.headers["content-type"][0].startswith("application/json")
        assert client.get("/state").status == 200

    assert fuzz_each_operation(served, check) == 14


def fingerprint(served) -> tuple:
    controller = served.session.controller
    view = controller.view()
    return len(controller.events()), tuple(s.left for s in view.skus), str(view.phase), controller.featured_sku


def test_without_the_token_nothing_changes(served) -> None:
    before = fingerprint(served)

    def check(case) -> None:
        response = case.call(base_url=f"http://127.0.0.1:{served.port}", timeout=10,
                             headers={"Authorization": f"Bearer {WRONG}"})  # fmt: skip
        assert response.status_code == 401, (response.status_code, response.text)

    fuzz_each_operation(served, check)
    assert served.session.log.flush()
    assert fingerprint(served) == before
