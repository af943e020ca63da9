"""The statements only tests run (tests/sql/), in a registry of their own."""

from pathlib import Path

from api.data.registry import load

test_queries = load(Path(__file__).parent / "sql")
