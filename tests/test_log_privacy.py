"""No log line carries what a client sent or what a row holds: a pass over every operation
of the document, with distinctive values in every path, query, header and body, and every
log record of the pass (every logger, every level) scanned for them, and for the hashes the
database keeps of the password and the token."""

import asyncio
import contextlib
import logging
import secrets
import signal
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.config import Settings
from api.data.db import Session
from api.main import create_app
from api.observability.logs import JsonFormatter
from tests import inventory
from tests.accounts import new_account, sign_in
from tests.processes import DEADLINE, started, until_answered
from tests.queries import test_queries
from tests.test_auth import TOKEN_HASHES
from tests.test_users import PASSWORD_HASH

MARK = f"zq{secrets.token_hex(6)}"  # in every value sent: found in a log line, it leaked
KEY = f"key-{secrets.token_hex(8)}"  # an Idempotency-Key the store takes, without the mark
CURRENT_SETTING = test_queries.value("settings/current", str)


async def stored_secrets(db: Session, user_id: int) -> list[str]:
    """What the database keeps of a user's password and tokens, as a log line would print it:
    the PHC string (and its digest alone), each token hash in hex and as Python shows bytes."""
    password_hash = await db.run(PASSWORD_HASH, user_id)
    token_hashes = [row.token_hash for row in await db.run(TOKEN_HASHES, user_id)]
    assert password_hash is not None and token_hashes  # the account exists and is signed in
    found = [password_hash, password_hash.rsplit("$", 1)[1]]
    return found + [form for digest in token_hashes for form in (digest.hex(), repr(digest)[2:-1])]


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
        # Fresh keys, and one the store would refuse (a quote, then 255 characters): that one
        # once reached PostgreSQL, whose refusal was logged with the failing row.
        variants += [
            {**sent, "Idempotency-Key": KEY},
            {**sent, "Idempotency-Key": MARK},
            {**sent, "Idempotency-Key": '"' + MARK.ljust(255, "k")},
        ]
    if "If-Match" in names:
        variants.append({**sent, "If-Match": f'"{MARK}"'})
    return variants


@pytest.fixture
def every_log_record(caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level: the root captures them all
    return caplog


async def test_no_log_line_carries_a_value_a_client_sent(client, db, every_log_record):
    account = await new_account(client, f"ann{MARK}")
    await sign_in(client, account.username, f"wrong {MARK}")
    secrets_sent = [MARK, KEY, account.token, account.password, account.email]
    secrets_sent += await stored_secrets(db, account.id)
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
    read_late = False
    for method, path, operation in operations:
        if (method, path) in last and not read_late:  # the last moment the account's rows all exist
            secrets_sent += await stored_secrets(db, account.id)  # a changed password has a new hash
            read_late = True
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


async def sent_over_a_socket(base: str, request: bytes) -> None:
    """A request written as is (one httpx would not send), its answer read to the close."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(reader.read(), DEADLINE)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def marked_requests(base: str, mark: str) -> tuple[int, list[str]]:
    """A bounded round of requests with the mark in every part a client controls, each kind a
    log line could quote: the new user's id, and every value sent."""
    email, password = f"{mark}@example.com", f"{mark} has a long passphrase"
    async with httpx.AsyncClient(base_url=base) as client:
        signed_up = await client.post("/users/", json={"email": email, "username": mark, "password": password})
        assert signed_up.status_code == 201, signed_up.text
        again = await client.post("/users/", json={"email": email, "username": f"{mark}2", "password": password})
        assert again.status_code == 409, again.text  # a unique violation, in PostgreSQL's log too
        assert (await sign_in(client, mark, f"wrong {mark}")).status_code == 400  # OAuth2's invalid_grant
        token = (await sign_in(client, email, password)).json()["access_token"]
        signed_in = {"Authorization": f"Bearer {token}"}
        answers = [
            await client.get("/posts/", params={"q": mark, "tag": mark}, headers=signed_in),
            await client.get(f"/users/{mark}", params={mark: mark}),
            await client.get(f"/{mark}/{mark}"),
            await client.get("/users/me", headers={"Authorization": f"Bearer {mark}"}),
            await client.post("/items/", json={"name": mark}, headers={**signed_in, "Idempotency-Key": KEY}),
            await client.patch("/users/me", json={"username": mark, "stray": mark}, headers=signed_in),
        ]
        assert all(answer.status_code < 500 for answer in answers), [answer.text for answer in answers]
    # What the server refuses before the app: a head it cannot parse, and one too large.
    await sent_over_a_socket(base, f"GET /{mark} HTTP/1.1\r\nHost: localhost\r\n{mark}\r\n\r\n".encode())
    big = f"GET /{mark} HTTP/1.1\r\nHost: localhost\r\nX-Mark: {mark * 1000}\r\n\r\n".encode()
    await sent_over_a_socket(base, big)
    return signed_up.json()["id"], [mark, KEY, email, password, token]


@pytest.mark.parametrize("arguments", [[], ["--reload"]], ids=["make serve", "make run"])
async def test_no_line_the_running_server_writes_carries_a_value_a_client_sent(database_url, db, arguments):
    """Everything the service process prints, as `make serve` and `make run` start it, after
    requests over a real socket: the operator's view, uvicorn's own lines included."""
    mark = f"zq{secrets.token_hex(6)}"
    with started("api.tools.serve", *arguments, DATABASE_URL=database_url, MAX_HEADER_BYTES="4096") as (process, base):
        try:
            async with httpx.AsyncClient() as client:
                await until_answered(client, f"{base}/health/live", process)
            user_id, sent = await marked_requests(base, mark)
            sent += await stored_secrets(db, user_id)
        finally:
            # SIGTERM, not the kill `started` ends with: under --reload that would leave the
            # server process (the reloader's child) running.
            process.send_signal(signal.SIGTERM)
            output = (await asyncio.to_thread(process.communicate, timeout=DEADLINE))[0].decode(errors="replace")

    # The whole output was read: from the start, through the requests, to the stop.
    assert "migrations applied" in output
    assert "refused a request head over 4096 bytes" in output
    if "--reload" in arguments:  # make run logs a line per request (REQUEST_LOG), scanned too
        assert "POST /users/ 201" in output, output
    assert process.returncode == 0, output
    leaks = [line for line in output.splitlines() if any(value in line for value in sent)]
    assert not leaks, leaks


@pytest.mark.skipif(
    Settings().database_url is not None, reason="the suite runs on DATABASE_URL's server, not the embedded one"
)
async def test_the_embedded_server_logs_errors_without_the_rows_they_quote(db):
    assert await db.run(CURRENT_SETTING, "log_error_verbosity") == "terse"


async def test_a_unique_violation_reaches_the_servers_own_log_without_the_value(cluster, cluster_url):
    """PostgreSQL's log, which the DBA reads: an email changed to one taken (the UPDATE meets
    the unique index, no read before it) is logged by the constraint it broke, never with its
    DETAIL, `Key (lower(email))=(…) already exists`."""
    mark = f"zq{secrets.token_hex(6)}"
    app = create_app(Settings(database_url=cluster_url, _env_file=None))
    transport = httpx.ASGITransport(app=app)
    async with LifespanManager(app), httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ann, bob = await new_account(client, f"ann{mark}"), await new_account(client, f"bob{mark}")
        taken = {"email": ann.email, "current_password": bob.password}
        changed = await client.patch("/users/me", json=taken, headers=bob.headers)
    logged = cluster.log.read_text(errors="replace")

    assert changed.status_code == 409, changed.text
    assert 'duplicate key value violates unique constraint "users_email_key"' in logged
    assert mark not in logged
