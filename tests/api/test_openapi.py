"""The OpenAPI document: valid 3.1, it lists every /api/v1 route of the url map, and the API
answers as it says (schemathesis, against the app itself: no server)."""
from __future__ import annotations

import os
import re

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from collective.benefits import claims, plans, runs
from collective.benefits.compute import PlanTerms, add_months, month_start
from collective.clock import now_utc, today_in
from collective.extensions import db
from collective.members.models import User
from collective.members.services import membership_in
from collective.pool import rules
from tests.api.conftest import payment_body
from tests.benefits.factories import plan
from tests.factories import commit

#: Routes under /api/v1 that are about the API rather than part of it.
NOT_IN_THE_DOCUMENT = {"/api/v1/openapi.json", "/api/v1/docs"}
_ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith("postgresql")
#: Examples per operation: each operation meets empty, huge, odd and unicode values; the
#: PostgreSQL pass replays the first half of the same (derandomized) examples.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "4" if _ON_POSTGRESQL else "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


def _document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(client):
    document = _document(client)
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)
    # Nullable values are 3.1's type lists, not 3.0's `nullable`.
    deadline = document["components"]["schemas"]["PitchOut"]["properties"]["deadline_on"]
    assert deadline["type"] == ["string", "null"]
    assert "nullable" not in str(document)


def test_the_document_lists_every_api_route_and_nothing_else(app, client):
    documented = {(re.sub(r"\{(\w+)\}", r"<\1>", path), method.upper())
                  for path, item in _document(client)["paths"].items()
                  for method in item if method != "parameters"}
    routed = {(re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule), method)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              and rule.rule not in NOT_IN_THE_DOCUMENT
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    assert len(routed) >= 38


def test_the_document_sections_have_human_names(client):
    document = _document(client)
    sections = [tag["name"] for tag in document["tags"]]
    assert sections[:5] == ["Collectives and members", "Clients, pitches and time",
                            "Payments and payouts", "Share rules and proposals",
                            "Benefits fund"]
    used = {tag for item in document["paths"].values() for operation in item.values()
            if isinstance(operation, dict) for tag in operation.get("tags", [])}
    assert used <= set(sections) and not [name for name in used if "api_" in name]
    votes = document["paths"]["/api/v1/collectives/{slug}/proposals/{proposal_id}/vote"]
    assert votes["put"]["tags"] == ["Share rules and proposals"]


def test_the_docs_page_runs_swagger_ui_from_this_site(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/static/api-docs.js" in html and "<script>" not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


#: The streamed exports (CSV, XLSX, Beancount, PDF) answer files, not JSON: schemathesis
#: would build a spreadsheet or a PDF for every generated example, and has no schema of a
#: file's content to check it against. tests/api/test_ledger.py requests each format, each
#: role and each refusal of them instead.
STREAMED = "/collectives/{slug}/exports/"


@pytest.fixture
def real_ids(api, world, books, setup) -> dict[str, int]:
    """Ids that exist in ours, so generated requests reach past the 404s."""
    paid = api("POST", "/collectives/ours/payments", world.full, json=payment_body(world))
    pitch = api("GET", f"/collectives/ours/pitches/{world.pitch_id}", world.full).get_json()
    return {"pitch_id": world.pitch_id, "payment_id": paid.get_json()["id"],
            "membership_id": world.member_id, "client_id": pitch["client_id"],
            "invoice_id": books.draft_id, "expense_id": books.expense_id,
            "entry_id": paid.get_json()["entry_id"], **_fund_ids(world, setup)}


def _fund_ids(world, setup) -> dict[str, int]:
    """A plan from two months back, last month's contributions run, a pending claim and an
    open proposal in ours (for the governance and fund operations)."""
    with setup():
        now, today = now_utc(), today_in("UTC")
        user = db.session.scalar(sa.select(User).filter_by(email=world.founder_email))
        founder = membership_in(user.id, "ours")
        first = add_months(month_start(today), -2)
        fund_plan = plans.set_founding_plan(
            founder, PlanTerms.from_json(plan(eligibility_months=0)), first, today=today)
        run = runs.run_contributions(founder.collective_id, add_months(first, 1),
                                     today=today).run
        claim = claims.file_claim(founder, kind="unpaid_invoice", start_period=today,
                                  invoice_amount=10_000, today=today, now=now)
        proposal = rules.propose_share_rule(
            founder, rules.terms_from(800, 500, "equal"), effective_on=today, today=today,
            now=now)
        ids = {"plan_id": fund_plan.id, "run_id": run.id, "claim_id": claim.id,
               "proposal_id": proposal.id,
               "rule_id": rules.rule_in_force(founder.collective_id, today).id}
        commit()
    return ids


def test_the_api_answers_as_its_document_says(app, world, real_ids):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {world.full}"}
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 66
    operations = [op for op in operations if not op.path.startswith(STREAMED)]
    for operation in operations:

        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy())
        def call(case):
            if case.path_parameters:
                case.path_parameters.update(
                    {name: real_ids.get(name, "ours") for name in case.path_parameters})
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            call()
        except Exception as exc:  # noqa: BLE001 - gathered, to name every failing operation
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert not failures, "\n\n".join(failures)
