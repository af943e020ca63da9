"""No log line carries what a client sent or what a row holds: a pass over every operation
of the document, with distinctive values in every path, query, header and body, and every
log record of the pass (every logger, every level) scanned for them."""

import logging
import secrets
from typing import Any

import pytest

from api.observability.logs import JsonFormatter
from tests import inventory
from tests.accounts import new_account, sign_in

MARK = f"zq{secrets.token_hex(6)}"  # in every value sent: found in a log line, it leaked


def marked(value: Any) -> Any:
    """The sample body with a distinctive mark in every string (a valid body where the pattern allows)."""
    if isinstance(value, str):
        return f"{value}{MARK}"
    if isinstance(value, dict):
        return {key: marked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [marked(item) for item in value]
    return value


def query_values(operation: dict[str, Any]) -> list[dict[str, str]]:
    """Each query parameter set to the mark (mostly refused) and to a value holding it that passes."""
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    passing = {"q": MARK, "tag": MARK, "attr": f"note:{MARK}"}
    return [{name: MARK for name in names}, {name: passing[name] for name in names if name in passing}]


def headers_for(operation: dict[str, Any], token: str) -> list[dict[str, str]]:
    names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
    sent = {"Authorization": f"Bearer {token}"}  # (X-Request-ID is echoed in logs by design)
    variants = [sent]
    if "Idempotency-Key" in names:
        # A fresh key, and one the store would refuse (a quote, then 255 characters): that one
        # once reached PostgreSQL, whose refusal was logged with the failing row.
        variants += [{**sent, "Idempotency-Key": MARK}, {**sent, "Idempotency-Key": '"' + MARK.ljust(255, "k")}]
    if "If-Match" in names:
        variants.append({**sent, "If-Match": f'"{MARK}"'})
    return variants


@pytest.fixture
def every_log_record(caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level: the root captures them all
    return caplog


async def test_no_log_line_carries_a_value_a_client_sent(client, every_log_record):
    account = await new_account(client, f"ann{MARK}")
    await sign_in(client, account.username, f"wrong {MARK}")
    secrets_sent = [MARK, account.token, account.password, account.email]
    ids = {}
    for name in inventory.collections():
        response = await client.post(f"/{name}/", json=marked(inventory.new(name, 1)), headers=account.headers)
        ids[name] = response.json().get("id")
    document = inventory.document()

    answered = 0
    # Signing out and deleting the account come last: they end the token the rest use.
    last = {("post", "/auth/logout"), ("delete", "/users/me")}
    operations = sorted(
        ((method, path, operation) for path, ops in document["paths"].items() for method, operation in ops.items()),
        key=lambda found: (found[0], found[1]) in last,
    )
    for method, path, operation in operations:
        schema = operation.get("requestBody", {}).get("content", {})
        bodies: list[dict[str, Any]] = [{"json": {"stray": MARK}}]
        if "application/json" in schema:
            wanted = schema["application/json"]["schema"]
            ref = wanted.get("$ref", "").rsplit("/", 1)[-1]
            bodies.append({"json": marked(inventory.body_of(document["components"]["schemas"].get(ref, wanted), 2))})
        if "application/x-www-form-urlencoded" in schema:
            bodies = [{"data": {"username": account.username, "password": MARK}}]
        real_ids = {f"{{{name.rstrip('s')}_id}}": str(ids.get(name) or 1) for name in ids}
        real_ids["{user_id}"] = str(account.id)
        paths = [inventory.ID_PARAMETER.sub(MARK, path)]
        paths.append(path.format_map({k.strip("{}"): v for k, v in real_ids.items()}) if "{" in path else path)
        for url in dict.fromkeys(paths):
            for params in query_values(operation):
                for headers in headers_for(operation, account.token):
                    for body in bodies if method in ("post", "patch") else [{}]:
                        response = await client.request(method.upper(), url, params=params, headers=headers, **body)
                        assert response.status_code < 500, (method, url, response.text)
                        answered += 1

    formatter = JsonFormatter()
    # httpx's lines are the test client's own, not the service's.
    lines = [formatter.format(record) for record in every_log_record.records if record.name != "httpx"]
    leaks = [line for line in lines if any(value in line for value in secrets_sent)]
    assert answered > 100
    assert not leaks, leaks


def test_the_scan_finds_a_value_that_leaks(every_log_record):
    """The capture above sees the service's loggers: a line with the mark would be found."""
    logging.getLogger("api.http.errors").warning("refused: %s", MARK)

    assert any(MARK in JsonFormatter().format(record) for record in every_log_record.records)
