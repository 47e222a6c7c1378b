"""Requests generated from the API's own OpenAPI description (schemathesis) get documented answers, never a 500.

A bounded, derandomized run: a few examples per operation against the live service with an admin key, so the
run takes seconds and gives the same requests every time. Dry-runs are left out: they fetch from whatever URL
the generated config names.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.integration.operator.site import OperatorSite

EXAMPLES_PER_OPERATION = 5
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]  # fmt: skip


def test_generated_requests_get_documented_answers_and_no_server_error(site: OperatorSite) -> None:
    schema = schemathesis.openapi.from_url(f"{site.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: dict[str, str] = {}
    for operation in operations:
        if operation.path.endswith("/dry-run"):
            continue

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy())
        def answers(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=site.url, headers={"Authorization": f"Bearer {site.admin_key}"},
                                   checks=CHECKS)  # fmt: skip

        try:
            answers()
        except BaseExceptionGroup as found:  # schemathesis reports a case's failed checks as a group
            failures[operation.label] = str(found)
    assert len(operations) > 25
    assert failures == {}
