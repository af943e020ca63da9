"""The SQL registry: every statement the service sends, read once from `sql/` at startup.

One statement per file, `sql/<resource>/<verb>.sql`; its name is its path without the
suffix (`items/get_by_id`). A file opens with a header of `--` lines in this grammar:

    -- Fetch one item by its id.          what it does: one or more lines of prose
    -- $1 id bigint                       one line per parameter, in order
    -- returns: one row                   one row | many rows | a value | nothing
    -- read-only                          optional: it writes nothing and may run on a replica

followed by the statement, which ends with `;`. A header that breaks the grammar, a
placeholder the header does not declare, two files with one name, or code naming a query
that has no file stops the service at startup with the file's path in the message.

Code binds a query to what its rows become (`queries.one("items/get_by_id", ItemPublic)`);
the binding must agree with the header's `returns:` line. `tests/test_sql_vet.py` prepares every
bound query against the migrated database and checks its columns against the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

# The header grammar, line by line.
HEADER_PREFIX = "--"
PARAM_LINE = re.compile(r"^-- \$(?P<position>\d+) (?P<name>[a-z_][a-z0-9_]*) (?P<type>\S.*)$")
RETURNS_LINE = re.compile(r"^-- returns: (?P<returns>.*)$")
READ_ONLY_LINE = "-- read-only"
PLACEHOLDER = re.compile(r"\$(\d+)")
LINE_COMMENT = re.compile(r"--[^\n]*")
NAME_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# How a statement carries its name when sent: in a comment after its first word.
FIRST_WORD = re.compile(r"^\S+")
NAME_TAG = re.compile(r"^\S+ /\* (?P<name>[a-z0-9_/]+) \*/")


class Returns(Enum):
    ONE = "one row"
    MANY = "many rows"
    VALUE = "a value"
    NOTHING = "nothing"


class QueryFileError(Exception):
    """A query file breaks the grammar; the message starts with its path."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


class UnknownQueryError(KeyError):
    """Code named a query that has no file."""


@dataclass(frozen=True, slots=True)
class Param:
    position: int
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    path: Path
    summary: str
    params: tuple[Param, ...]
    returns: Returns
    text: str  # what is sent: the statement, tagged with its name (see `tagged`)
    read_only: bool = False  # may run on a read replica


def parse_query(name: str, path: Path, source: str) -> Query:
    lines = source.splitlines()
    header_length = next((i for i, line in enumerate(lines) if not line.startswith(HEADER_PREFIX)), len(lines))
    summary: list[str] = []
    params: list[Param] = []
    returns: Returns | None = None
    read_only = False
    for line in lines[:header_length]:
        if match := PARAM_LINE.match(line):
            position = int(match["position"])
            if position != len(params) + 1:
                raise QueryFileError(path, f"parameter ${position} is out of order, expected ${len(params) + 1}")
            params.append(Param(position, match["name"], match["type"].strip()))
        elif match := RETURNS_LINE.match(line):
            if returns is not None:
                raise QueryFileError(path, "more than one 'returns:' line")
            try:
                returns = Returns(match["returns"].strip())
            except ValueError:
                allowed = " | ".join(r.value for r in Returns)
                raise QueryFileError(path, f"'returns: {match['returns']}' is not one of: {allowed}") from None
        elif line == READ_ONLY_LINE:
            read_only = True
        elif line.startswith("-- $"):
            raise QueryFileError(path, f"malformed parameter line {line!r}, expected '-- $1 name type'")
        else:
            summary.append(line.removeprefix(HEADER_PREFIX).strip())

    summary_text = " ".join(part for part in summary if part)
    if not summary_text:
        raise QueryFileError(path, "the header does not say what the query does")
    if returns is None:
        raise QueryFileError(path, "the header has no 'returns:' line")

    body = "\n".join(lines[header_length:]).strip()
    if not body:
        raise QueryFileError(path, "no statement after the header")
    if not body.endswith(";"):
        raise QueryFileError(path, "the statement does not end with ';'")
    used = {int(n) for n in PLACEHOLDER.findall(LINE_COMMENT.sub("", body))}
    declared = {p.position for p in params}
    if used != declared:
        raise QueryFileError(
            path,
            f"the statement uses {_placeholders(used)} but the header declares {_placeholders(declared)}",
        )
    return Query(name, path, summary_text, tuple(params), returns, tagged(name, body), read_only)


def tagged(name: str, statement: str) -> str:
    """The statement as sent, its name in a comment after its first word (`SELECT /* items/get_by_id */`):
    pg_stat_activity, the server's log and pg_stat_statements show it there. (A comment before
    the first word would be dropped by pg_stat_statements from PostgreSQL 18 on.)"""
    return FIRST_WORD.sub(lambda word: f"{word[0]} /* {name} */", statement, count=1)


def sent_name(text: str) -> str | None:
    """The name a statement was sent with, or None for one not from a query file."""
    match = NAME_TAG.match(text)
    return match["name"] if match else None


def _placeholders(positions: set[int]) -> str:
    return ", ".join(f"${n}" for n in sorted(positions)) or "no parameters"


R = TypeVar("R")
# Covariant: a Statement[str] is a Statement[object], as its result only ever comes out.
R_co = TypeVar("R_co", covariant=True)
M = TypeVar("M", bound=BaseModel)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Statement(Generic[R_co]):
    """A query bound to the conversion of its raw result (a row, rows, a value) into R_co."""

    query: Query
    result_type: Any  # the model or value type the vet test checks the columns against
    convert: Callable[[Any], R_co] = field(repr=False)


class Registry(Mapping[str, Query]):
    """An immutable mapping of query name to query, and the bindings code made of them."""

    def __init__(self, queries: Mapping[str, Query], root: Path) -> None:
        self._queries = MappingProxyType(dict(queries))
        self.root = root
        self.bindings: list[Statement[Any]] = []  # every binding made, for the vet test

    def __getitem__(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            raise UnknownQueryError(f"no query named {name!r}: expected the file {self.root / name}.sql") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._queries)

    def __len__(self) -> int:
        return len(self._queries)

    def one(self, name: str, model: type[M]) -> Statement[M | None]:
        """A query returning at most one row, mapped into model."""
        validate = model.model_validate
        return self._bind(name, Returns.ONE, model, lambda row: None if row is None else validate(dict(row.items())))

    def many(self, name: str, model: type[M]) -> Statement[list[M]]:
        """A query returning rows, each mapped into model."""
        validate = TypeAdapter(list[model]).validate_python  # type: ignore[valid-type]
        # dict(row.items()) takes a quarter less time than dict(row), which looks each key up again.
        return self._bind(name, Returns.MANY, model, lambda rows: validate([dict(row.items()) for row in rows]))

    def value(self, name: str, value_type: type[V]) -> Statement[V | None]:
        """A query returning one value (its row's first column), or None when no row comes back."""
        return self._bind(name, Returns.VALUE, value_type, _unchanged)

    def nothing(self, name: str) -> Statement[str]:
        """A statement run for its effect; the result is its command tag: the verb and the row count."""
        return self._bind(name, Returns.NOTHING, None, _unchanged)

    def _bind(self, name: str, returns: Returns, result_type: Any, convert: Callable[[Any], R]) -> Statement[R]:
        query = self[name]
        if query.returns is not returns:
            raise QueryFileError(
                query.path,
                f"the header says 'returns: {query.returns.value}' but the code expects '{returns.value}'",
            )
        statement = Statement(query, result_type, convert)
        self.bindings.append(statement)
        return statement


def _unchanged(raw: Any) -> Any:
    return raw


def load(root: Path) -> Registry:
    """Read every `*.sql` file under root; raise QueryFileError on the first bad one."""
    queries: dict[str, Query] = {}
    for path in sorted(root.rglob("*.sql")):
        relative = path.relative_to(root).with_suffix("")
        if not all(NAME_SEGMENT.match(part) for part in relative.parts):
            raise QueryFileError(path, "a query's path must be made of letters, digits and '_'")
        name = relative.as_posix().lower()  # one name per file, even on a case-blind disk
        if name in queries:
            raise QueryFileError(path, f"duplicate query name {name!r}, also {queries[name].path}")
        queries[name] = parse_query(name, path, path.read_text(encoding="utf-8"))
    return Registry(queries, root)


queries: Registry = load(SQL_DIR)
