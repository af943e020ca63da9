"""Browser pages on another origin, in a real headless Chromium (Debian's, driven by
Playwright): a page on an origin in CORS_ORIGINS signs up, signs in, creates, lists and reads
with fetch alone; a page on an origin not listed is refused, and the server writes nothing.

The service runs as a process of its own (uvicorn on 127.0.0.1), the pages come from a tiny
static server on 127.0.0.2 (tests/browser/), one port per origin. The browser is the
machine's own, never one Playwright downloads: `.ci/run` installs Debian's `chromium`, and
the tests skip, saying why, where it is missing or cannot start.
"""

import functools
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.config import Settings
from tests.processes import DEADLINE, started, until_answered
from tests.queries import test_queries

playwright = pytest.importorskip("playwright.async_api", reason="playwright (a dev dependency) is not installed")

PAGES = Path(__file__).parent / "browser"
PAGE_HOST = "127.0.0.2"  # another address than the API's, so another origin whatever the port
# What lets Chromium run headless here: no sandbox (containers, root), no GPU, and none of
# its own traffic to Google's services (updates, sync, QUIC probes), which loopback-only
# tests must not make.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

COUNT_USERS = test_queries.value("users/count", int)
COUNT_ITEMS = test_queries.value("items/count_all", int)


class _Pages(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the test's output is enough
        pass


@contextmanager
def _static_pages() -> Iterator[str]:
    """tests/browser/ served on PAGE_HOST at a free port; yields the origin."""
    server = ThreadingHTTPServer((PAGE_HOST, 0), functools.partial(_Pages, directory=str(PAGES)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{PAGE_HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(DEADLINE)


@pytest.fixture(scope="module")
def origins() -> Iterator[tuple[str, str]]:
    """Two page origins: the one the API lists, and one it does not."""
    with _static_pages() as listed, _static_pages() as elsewhere:
        yield listed, elsewhere


@pytest.fixture(scope="module")
async def api(settings: Settings, origins: tuple[str, str]) -> AsyncIterator[str]:
    """The service on a port of its own, on the suite's database, listing only the first origin."""
    assert settings.database_url is not None
    environment = {
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "BEHIND_PGBOUNCER": str(settings.behind_pgbouncer).lower(),
        "CORS_ORIGINS": origins[0],
    }
    with started("uvicorn", "--factory", "api.main:create_app", **environment) as (server, base):
        async with httpx.AsyncClient(timeout=DEADLINE) as probe:
            assert (await until_answered(probe, f"{base}/health/ready", server)).status_code == 200
        yield base


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium; .ci/run does)")
    async with playwright.async_playwright() as driver:
        try:
            browser = await driver.chromium.launch(
                executable_path=executable, args=CHROMIUM_FLAGS, timeout=DEADLINE * 1000
            )
        except playwright.Error as error:
            pytest.skip(f"Chromium ({executable}) cannot start here: {str(error).splitlines()[0]}")
        try:
            yield browser
        finally:
            await browser.close()


async def _page_on(browser: Any, origin: str) -> Any:
    page = await browser.new_page()
    page.set_default_timeout(DEADLINE * 1000)
    await page.goto(f"{origin}/page.html")
    return page


async def test_a_page_on_a_listed_origin_signs_up_signs_in_creates_lists_and_reads(browser, api, origins, client, db):
    page = await _page_on(browser, origins[0])

    flow = await page.evaluate("([api, name]) => signUpAndUse(api, name)", [api, "ann"])

    assert (
        flow["signedUp"]["status"] == 201 and flow["signedUp"]["location"] == f"/users/{flow['signedUp']['body']['id']}"
    )
    assert flow["signedIn"]["status"] == 200 and flow["signedIn"]["body"]["token_type"] == "bearer"
    created, retried = flow["created"], flow["retried"]
    assert created["status"] == 201 and created["location"] == f"/items/{created['body']['id']}"
    assert created["replayed"] is None and created["requestId"]
    assert retried["status"] == 201 and retried["replayed"] == "true" and retried["body"] == created["body"]
    assert await db.run(COUNT_ITEMS) == 1  # the retry wrote nothing
    assert flow["listed"]["status"] == 200 and flow["listed"]["body"]["data"] == [created["body"]]
    assert flow["read"]["status"] == 200 and flow["read"]["body"] == created["body"] and flow["read"]["etag"]
    assert flow["reread"]["status"] == 304 and flow["reread"]["body"] is None
    assert flow["reread"]["etag"] == flow["read"]["etag"]
    await page.close()


async def test_a_page_on_an_origin_not_listed_is_refused_and_writes_nothing(browser, api, origins, client, db, ann):
    page = await _page_on(browser, origins[1])
    users_before = await db.run(COUNT_USERS)

    tried = await page.evaluate("([api, token]) => tryFromElsewhere(api, token)", [api, ann.token])

    assert tried == {
        "signUp": {"failed": "TypeError"},
        "create": {"failed": "TypeError"},
        "read": {"failed": "TypeError"},
    }
    assert await db.run(COUNT_USERS) == users_before == 1
    assert await db.run(COUNT_ITEMS) == 0
    await page.close()
