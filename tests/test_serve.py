"""How `make run` and `make serve` configure uvicorn: what development reload watches, and
which log format each writes."""

import io
import sys

import pytest

from api.config import Settings
from api.tools import serve
from api.tools.database import REPO_ROOT


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def no_log_format(monkeypatch):
    # Restored after the test, whatever development sets for its reloaded process.
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.delenv("REQUEST_LOG", raising=False)


def test_development_reload_watches_the_code_the_statements_and_the_migrations_only():
    options = serve.uvicorn_options(workers=1, reload=True)

    assert sorted(options["reload_dirs"]) == [str(REPO_ROOT / name) for name in ("api", "migrations", "sql")]
    assert "*.sql" in options["reload_includes"]


def test_production_does_not_reload():
    assert "reload" not in serve.uvicorn_options(workers=2)


def test_development_on_a_terminal_logs_text(monkeypatch, no_log_format):
    monkeypatch.setattr(sys, "stderr", Terminal())

    assert serve._for_development(Settings(_env_file=None)).log_format == "text"


def test_development_keeps_a_log_format_set_explicitly(monkeypatch, no_log_format):
    monkeypatch.setattr(sys, "stderr", Terminal())

    assert serve._for_development(Settings(_env_file=None, log_format="json")).log_format == "json"


def test_development_into_a_pipe_logs_json(monkeypatch, no_log_format):
    monkeypatch.setattr(sys, "stderr", io.StringIO())

    assert serve._for_development(Settings(_env_file=None)).log_format == "json"


def test_development_logs_a_line_per_request_unless_told_not_to(no_log_format):
    assert serve._for_development(Settings(_env_file=None)).request_log is True
    assert serve._for_development(Settings(_env_file=None, request_log=False)).request_log is False


@pytest.mark.parametrize("reload", [False, True])
def test_both_modes_read_requests_through_the_bounded_protocol(reload):
    assert serve.uvicorn_options(workers=1, reload=reload)["http"] == serve.HEAD_LIMITED_HTTP


def test_uvicorns_own_bounds_come_from_the_settings():
    settings = Settings(_env_file=None, keep_alive_timeout=3, max_connections=7, max_header_bytes=4096)

    assert serve.read_limits(settings) == {
        "timeout_keep_alive": 3,
        "limit_concurrency": 7,
        "h11_max_incomplete_event_size": 4096,
    }
