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

from api.http import headers
from api.http.conditional import match_holds
from api.http.idempotency import KEY_PATTERN
from api.main import create_app
from api.resources.items.schemas import MAX_ATTRIBUTES_BYTES
from tests import inventory
from tests.queries import test_queries

EXAMPLES_PER_OPERATION = 10
# The stateful phase: scenarios, each a walk of at most so many steps along the links.
SCENARIOS = 20
STEPS_PER_SCENARIO = 12

TRUNCATE_ALL = test_queries.nothing("truncate_all")
# The operations that end the session they are sent with: signing out and deleting the account.
SESSION_ENDING = {("POST", "/auth/logout"), ("DELETE", "/users/me")}
# Read at the edge, and ignored there when malformed, as their descriptions say.
IGNORED_WHEN_MALFORMED = {
    header["name"]: header["schema"]["pattern"] for header in (headers.IF_NONE_MATCH, headers.PREFER)
}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

schema = schemathesis.pytest.from_fixture("api_schema")
_accounts = itertools.count()
_shared_tokens: set[str] = set()  # every token FreshAccount handed out to be shared


@pytest.fixture(scope="module")
def api_schema(settings):
    # An app of its own: schemathesis calls it on its own event loop, with its own lifespan.
    # Every request comes from one client address, and the fuzzer fails sign-ins by the
    # hundred: the throttle would rightly make its own sign-ins wait (tests/test_throttle.py).
    unthrottled = settings.model_copy(update={"throttle_free_failures": 10**6, "throttle_address_free_failures": 10**6})
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(unthrottled))


def _new_account_token(app) -> str:
    username = f"fuzz{next(_accounts)}"
    account = {"email": f"{username}@example.com", "username": username, "password": f"{username} passphrase"}
    with asgi.get_client(app) as client:
        client.post("/users/", json=account)
        token = client.post("/auth/token", data=account)
    return token.json()["access_token"]


@schema.auth(retry_on=[]).skip_for(path="/auth/token")
class FreshAccount:
    """A new account's token, which schemathesis caches and shares between cases for its
    refresh interval (300 s). An operation that ends its session gets a token of its own, so the
    shared one is never revoked. No 401 makes schemathesis fetch another (`retry_on` is empty):
    a replay with a new token would hide the 401 that `shared_token_stays_valid` looks for."""

    def get(self, case, context):
        token = _new_account_token(context.app)
        _shared_tokens.add(token)
        return token

    def set(self, case, data, context):
        if (case.method.upper(), case.operation.path) in SESSION_ENDING:
            data = _new_account_token(context.app)
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def test_the_operations_that_end_a_session_are_the_documents():
    paths = inventory.document()["paths"]
    assert all(method.lower() in paths.get(path, {}) for method, path in SESSION_ENDING)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_the_api_keeps_to_its_published_schema(case):
    _fresh_idempotency_key(case)
    case.call_and_validate(
        additional_checks=[headers_declared, shared_token_stays_valid], excluded_checks=_excluded(case)
    )


def shared_token_stays_valid(ctx, response, case) -> None:
    """No case signed in with the run's shared token is refused it: it was never revoked, so
    every signed-in case was judged as signed in."""
    token = (case.headers or {}).get("Authorization", "").removeprefix("Bearer ")
    if token in _shared_tokens and response.status_code == 401:
        raise AssertionError(f"{case.method} {case.formatted_path}: 401 with the run's shared token")


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
    """The document, less what would end the walk's own session (SESSION_ENDING: the main run
    sends those, and tests/test_auth.py and tests/test_users.py try them)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))
    for method, path in SESSION_ENDING:
        schema = schema.exclude(method=method, path=path)
    return schema


class HandedOut:
    """What the service handed out in a walk, read from its answers: the current ETag of each
    resource by path (a create's under its Location), and each list's cursors."""

    def __init__(self) -> None:
        self.etags: dict[str, str] = {}
        self.cursors: set[tuple[str, str]] = set()

    def note(self, response, case) -> None:
        path, status, found = case.formatted_path, response.status_code, response.headers
        if case.method.upper() not in SAFE_METHODS and status < 300:
            # A change may show in other representations too (a post shows its author's name).
            self.etags.clear()
        etag = found.get("etag", [None])[0]
        if etag and status == 201 and "location" in found:
            self.etags[found["location"][0]] = etag
        elif etag and status in (200, 304):
            self.etags[path] = etag
        if status == 200 and found.get("content-type", [""])[0].startswith("application/json"):
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("cursor"), str):
                self.cursors.add((path, body["cursor"]))


NOTHING_HANDED_OUT = HandedOut()  # the main run's: every generated version and cursor is foreign


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

    judged_versions = 0  # positive cases with an If-Match that positive_data_acceptance judged

    class Walk(walked_schema.as_state_machine()):
        def setup(self):
            # Each walk from empty tables, as a new account: the same steps meet the same
            # answers, which Hypothesis needs to replay and explore them.
            _empty_tables(database_url)
            self.token = _new_account_token(walked_schema.app)
            self.handed = HandedOut()

        def before_call(self, case):
            _fresh_idempotency_key(case)
            if case.operation.path != "/auth/token":
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {self.token}"}
            self.excluded = _excluded(case, self.handed)  # judged by what was handed out before it

        def after_call(self, response, case):
            super().after_call(response, case)
            reached.add((case.method, case.operation.path, response.status_code))
            self.handed.note(response, case)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            nonlocal judged_versions
            judged = schemathesis.checks.positive_data_acceptance not in self.excluded
            if judged and "If-Match" in (case.headers or {}) and case.meta and case.meta.generation.mode.is_positive:
                judged_versions += 1
            case.validate_response(
                response,
                additional_checks=[*(additional_checks or []), headers_declared],
                excluded_checks=self.excluded,
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
    # A linked change sent with the ETag just received is judged as any valid request is.
    assert judged_versions > 0


def _fresh_idempotency_key(case) -> None:
    """A client sends a new key with each new request; the fuzzer would send one key with many
    (tests/test_idempotency.py covers reuse). A malformed key is left for the negative tests."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and re.fullmatch(KEY_PATTERN, key):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex


def _excluded(case, handed: HandedOut = NOTHING_HANDED_OUT) -> list:
    """The checks that do not apply to this case, by the rules below."""
    excluded = []
    if _refused_by_design(case, handed):
        excluded.append(schemathesis.checks.positive_data_acceptance)
    if _ignored_by_design(case):
        excluded.append(schemathesis.checks.negative_data_rejection)
    return excluded


def _refused_by_design(case, handed: HandedOut) -> bool:
    """Requests the published schema allows but the API refuses on purpose, by rules the schema
    can only state in words (each is in the field's description):
    an email at a reserved domain (.test, .invalid …), which can never receive mail;
    a cursor the service did not hand out;
    an If-Match naming a version other than the current one the service handed out (a 412);
    item attributes over 4096 bytes, or with a NUL inside (jsonb cannot store it);
    an attribute filter whose integer is not in its one form (`-0`, `1.0`, `1e1`)."""
    body = case.body if isinstance(case.body, dict) else {}
    email = body.get("email")
    domain = email.rsplit("@", 1)[-1].lower() if isinstance(email, str) else ""
    reserved_email = any(domain == name or domain.endswith(f".{name}") for name in SPECIAL_USE_DOMAIN_NAMES)
    cursor = (case.query or {}).get("cursor")
    foreign_cursor = cursor is not None and (case.formatted_path, cursor) not in handed.cursors
    version, current = (case.headers or {}).get("If-Match", "*"), handed.etags.get(case.formatted_path)
    foreign_version = version.strip() != "*" and not (current and match_holds(version, current))
    attributes = json.dumps(body.get("attributes", {}), ensure_ascii=False)
    unstorable_attributes = "\\u0000" in attributes or len(attributes.encode()) > MAX_ATTRIBUTES_BYTES
    filters = (case.query or {}).get("attr", [])
    filters = filters if isinstance(filters, list) else [filters]  # a negative case may send anything
    integer_in_another_form = any(
        isinstance(pair, str) and _another_form_of_an_integer(pair.partition(":")[2]) for pair in filters
    )
    return reserved_email or foreign_cursor or foreign_version or unstorable_attributes or integer_in_another_form


JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _another_form_of_an_integer(value: str) -> bool:
    """A JSON number whose value is an integer, written otherwise than in plain digits."""
    if not JSON_NUMBER.fullmatch(value):
        return False
    number = json.loads(value)
    return str(number) != value if isinstance(number, int) else number.is_integer()


def _ignored_by_design(case) -> bool:
    """A request with a malformed header the service ignores (IGNORED_WHEN_MALFORMED) is answered
    as if it were not sent; negative_data_rejection cannot tell that from accepting it."""
    sent = case.headers or {}
    return any(
        name in sent and not re.fullmatch(pattern, str(sent[name])) for name, pattern in IGNORED_WHEN_MALFORMED.items()
    )
