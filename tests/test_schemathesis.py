"""schemathesis against the app's own OpenAPI document, every check on: generated requests,
valid and not, signed in, a bounded number per operation; then the stateful phase, which
follows the document's links from each create to the read, update and delete of what it
made. Zero server errors, every response as the published schema says (status, content
type, body, headers), and no header the document does not declare for its operation and
status."""

import asyncio
import itertools
import json
import re
import uuid

import asyncpg
import pytest
import schemathesis
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from hypothesis import HealthCheck, Phase, settings
from schemathesis.python import asgi

from api.http.idempotency import KEY_PATTERN
from api.main import create_app
from api.resources.items.schemas import MAX_ATTRIBUTES_BYTES
from tests import inventory
from tests.queries import test_queries

EXAMPLES_PER_OPERATION = 10
# The stateful phase: scenarios, each a walk of at most so many steps along the links.
SCENARIOS = 20
STEPS_PER_SCENARIO = 8

TRUNCATE_ALL = test_queries.nothing("truncate_all")

schema = schemathesis.pytest.from_fixture("api_schema")
_accounts = itertools.count()


@pytest.fixture(scope="module")
def api_schema(settings):
    # An app of its own: schemathesis calls it on its own event loop, with its own lifespan.
    # Every request comes from one client address, and the fuzzer fails sign-ins by the
    # hundred: the throttle would rightly make its own sign-ins wait (tests/test_throttle.py).
    unthrottled = settings.model_copy(update={"throttle_free_failures": 10**6, "throttle_address_free_failures": 10**6})
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(unthrottled))


@schema.auth().skip_for(path="/auth/token")
class FreshAccount:
    """A new account and its token; fetched again whenever a 401 says the last one was
    revoked (the fuzzer signs out and deletes accounts too)."""

    def get(self, case, context):
        """A new account's token; `context` is schemathesis's auth context, or the schema."""
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
    case.call_and_validate(
        additional_checks=[headers_declared],
        excluded_checks=[schemathesis.checks.positive_data_acceptance] if refused_by_design else [],
    )


def headers_declared(ctx, response, case) -> None:
    """Every header of the answer is declared for its operation and status. (A method the path
    does not offer is no operation's: its 405 with `Allow` is tests/test_methods.py's.)"""
    if case.method.lower() not in inventory.document()["paths"][case.operation.path]:
        return
    found = inventory.undeclared(case.operation.path, case.method, response.status_code, response.headers)
    if found:
        raise AssertionError(f"{case.method} {case.operation.path}: undeclared {found}")


@pytest.fixture(scope="module")
def walked_schema(settings):
    """The document, less what would end the walk's own session: signing out and deleting the
    account (tests/test_auth.py and tests/test_users.py try those)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))
    return schema.exclude(path="/auth/logout").exclude(method="DELETE", path="/users/me")


def _empty_tables(database_url: str) -> None:
    async def truncate() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute(TRUNCATE_ALL.query.text)
        finally:
            await connection.close()

    asyncio.run(truncate())


def test_the_stateful_phase_walks_real_resources_and_keeps_to_the_schema(walked_schema, database_url):
    reached: set[tuple[str, str, int]] = set()

    class Walk(walked_schema.as_state_machine()):
        def setup(self):
            # Each walk from empty tables, as a new account: the same steps meet the same
            # answers, which Hypothesis needs to replay and explore them.
            _empty_tables(database_url)
            self.token = FreshAccount().get(None, walked_schema)

        def before_call(self, case):
            _fresh_idempotency_key(case)
            if case.operation.path != "/auth/token":
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {self.token}"}

        def after_call(self, response, case):
            reached.add((case.method, case.operation.path, response.status_code))

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                additional_checks=[*(additional_checks or []), headers_declared],
                excluded_checks=[schemathesis.checks.positive_data_acceptance] if _refused_by_design(case) else [],
                transport_kwargs=kwargs,
            )

    Walk.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS_PER_SCENARIO,
            deadline=None,
            derandomize=True,  # the same walks on every run
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )

    # The links led to real resources: each collection's members were reached, and some were
    # changed, deleted, and read again unchanged (304). (Which walks Hypothesis picks shifts
    # with the document; this is what any of them must show.)
    paths = inventory.document()["paths"]
    members = {
        next(p for p in paths if inventory.ID_PARAMETER.fullmatch(p.removeprefix(f"/{name}/")))
        for name in inventory.owned()
    }
    seen = sorted(map(str, reached))
    for member in members:
        assert any(path == member and status < 400 for _, path, status in reached), (member, seen)
    for method, status in (("PATCH", 200), ("DELETE", 204), ("GET", 304)):
        assert any((method, member, status) in reached for member in members), (method, status, seen)


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
