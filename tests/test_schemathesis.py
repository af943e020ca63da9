"""schemathesis against the app's own OpenAPI document: generated requests, valid and not,
signed in, a bounded number per operation. Zero server errors, and every response must
match the published schema (status, content type, body, headers)."""

import itertools
import json
import re
import uuid

import pytest
import schemathesis
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi

from api.http.idempotency import KEY_PATTERN
from api.main import create_app
from api.resources.items.schemas import MAX_ATTRIBUTES_BYTES

EXAMPLES_PER_OPERATION = 40

schema = schemathesis.pytest.from_fixture("api_schema")
_accounts = itertools.count()


@pytest.fixture(scope="module")
def api_schema(settings):
    # An app of its own: schemathesis calls it on its own event loop, with its own lifespan.
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))


@schema.auth().skip_for(path="/auth/token")
class FreshAccount:
    """A new account and its token; fetched again whenever a 401 says the last one was
    revoked (the fuzzer signs out and deletes accounts too)."""

    def get(self, case, context):
        username = f"fuzz{next(_accounts)}"
        account = {"email": f"{username}@example.com", "username": username, "password": f"{username} passphrase"}
        with asgi.get_client(context.app) as client:
            client.post("/users/", json=account)
            token = client.post("/auth/token", data=account)
        return token.json()["access_token"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_the_api_keeps_to_its_published_schema(case):
    _fresh_idempotency_key(case)
    refused_by_design = _refused_by_design(case)
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance] if refused_by_design else [])


def _fresh_idempotency_key(case) -> None:
    """A client sends a new key with each new request; the fuzzer would send one key with many
    (tests/test_idempotency.py covers reuse). A malformed key is left for the negative tests."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and re.fullmatch(KEY_PATTERN, key):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex


def _refused_by_design(case) -> bool:
    """Requests the published schema allows but the API refuses on purpose, by rules the schema
    can only state in words (each is in the field's description):
    an email at a reserved domain (.test, .invalid …), which can never receive mail;
    a cursor the service did not hand out;
    an If-Match naming a version the service did not hand out (a 412, by design);
    item attributes over 4096 bytes, or with a NUL inside (jsonb cannot store it)."""
    body = case.body if isinstance(case.body, dict) else {}
    email = body.get("email")
    domain = email.rsplit("@", 1)[-1].lower() if isinstance(email, str) else ""
    reserved_email = any(domain == name or domain.endswith(f".{name}") for name in SPECIAL_USE_DOMAIN_NAMES)
    foreign_cursor = "cursor" in (case.query or {})
    foreign_version = (case.headers or {}).get("If-Match", "*") != "*"
    attributes = json.dumps(body.get("attributes", {}), ensure_ascii=False)
    unstorable_attributes = "\\u0000" in attributes or len(attributes.encode()) > MAX_ATTRIBUTES_BYTES
    return reserved_email or foreign_cursor or foreign_version or unstorable_attributes
