"""The query registry: its file grammar, the errors that stop startup, and the rule that
no SQL text lives in Python."""

import ast
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from api.data.registry import SQL_DIR, QueryFileError, Returns, UnknownQueryError, load, queries, sent_name

GOOD = """\
-- Fetch one thing by id.
-- $1 id bigint
-- returns: one row

SELECT id
FROM things
WHERE id = $1;
"""


class Thing(BaseModel):
    id: int


def write(root: Path, name: str, source: str) -> Path:
    path = root / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return path


def test_a_query_file_is_read_with_its_header(tmp_path):
    write(tmp_path, "things/get_by_id", GOOD)

    query = load(tmp_path)["things/get_by_id"]

    assert query.summary == "Fetch one thing by id."
    assert [(p.position, p.name, p.type) for p in query.params] == [(1, "id", "bigint")]
    assert query.returns is Returns.ONE
    assert query.text == "SELECT /* things/get_by_id */ id\nFROM things\nWHERE id = $1;"
    assert sent_name(query.text) == "things/get_by_id"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("SELECT 1;\n", "the header does not say what the query does"),
        ("-- $1 id bigint\n-- returns: one row\nSELECT $1;\n", "the header does not say what the query does"),
        ("-- Fetch.\n-- $1 id bigint\nSELECT $1;\n", "the header has no 'returns:' line"),
        ("-- Fetch.\n-- returns: some rows\nSELECT 1;\n", "'returns: some rows' is not one of"),
        ("-- Fetch.\n-- returns: one row\n-- returns: one row\nSELECT 1;\n", "more than one 'returns:' line"),
        ("-- Fetch.\n-- $2 id bigint\n-- returns: one row\nSELECT $2;\n", "parameter $2 is out of order"),
        ("-- Fetch.\n-- $1 id\n-- returns: one row\nSELECT $1;\n", "malformed parameter line"),
        ("-- Fetch.\n-- returns: one row\nSELECT $1;\n", "uses $1 but the header declares no parameters"),
        (
            "-- Fetch.\n-- $1 id bigint\n-- returns: one row\nSELECT 1;\n",
            "uses no parameters but the header declares $1",
        ),
        ("-- Fetch.\n-- returns: one row\n", "no statement after the header"),
        ("-- Fetch.\n-- returns: one row\nSELECT 1\n", "does not end with ';'"),
    ],
)
def test_a_malformed_query_file_stops_loading_naming_its_path(tmp_path, source, problem):
    path = write(tmp_path, "things/bad", source)

    with pytest.raises(QueryFileError) as raised:
        load(tmp_path)

    assert str(raised.value).startswith(f"{path}: ")
    assert problem in str(raised.value)


def test_a_placeholder_in_a_comment_of_the_statement_does_not_count(tmp_path):
    write(tmp_path, "things/get", "-- Fetch.\n-- returns: one row\nSELECT 1  -- not $1\n;\n")

    assert load(tmp_path)["things/get"].params == ()


def test_two_files_with_one_name_stop_loading(tmp_path):
    lower = write(tmp_path, "things/get_by_id", GOOD)
    upper = write(tmp_path, "Things/Get_By_Id", GOOD)  # one file on a case-blind disk

    with pytest.raises(QueryFileError) as raised:
        load(tmp_path)

    assert str(raised.value) == f"{lower}: duplicate query name 'things/get_by_id', also {upper}"


def test_a_file_name_that_is_not_a_name_stops_loading(tmp_path):
    write(tmp_path, "things/get-by-id", GOOD)

    with pytest.raises(QueryFileError, match="must be made of letters"):
        load(tmp_path)


def test_code_naming_a_query_without_a_file_fails_with_the_expected_path(tmp_path):
    registry = load(tmp_path)

    with pytest.raises(UnknownQueryError, match=re.escape(f"{tmp_path}/things/missing.sql")):
        registry.one("things/missing", Thing)


def test_code_expecting_another_result_than_the_header_says_fails(tmp_path):
    path = write(tmp_path, "things/get_by_id", GOOD)
    registry = load(tmp_path)

    with pytest.raises(QueryFileError, match="says 'returns: one row' but the code expects 'many rows'") as raised:
        registry.many("things/get_by_id", Thing)
    assert str(raised.value).startswith(str(path))


def test_the_registry_cannot_be_changed():
    with pytest.raises(TypeError):
        queries["items/get_by_id"] = queries["items/get_by_id"]  # type: ignore[index]


def test_the_service_registry_holds_every_file_under_sql():
    assert set(queries) == {p.relative_to(SQL_DIR).with_suffix("").as_posix() for p in SQL_DIR.rglob("*.sql")}


# SQL shapes, in the uppercase keywords the project's SQL is written in: prose that merely
# starts with "With" or says "select the posts from" is not SQL.
SQL_IN_A_STRING = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bWITH\s+\w+\s+AS\s*\(|\b(CREATE|ALTER|DROP)\s+(TABLE|INDEX|VIEW|SCHEMA|DATABASE)\b"
    r"|\bTRUNCATE\s+\w+|\bSET\s+(LOCAL\s+)?\w+\s*(=|TO)\b|\b(BEGIN|COMMIT|ROLLBACK)\s*;"
)


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal and f-string part in a module, but docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_sql_text_in_python():
    package = Path(__file__).resolve().parent.parent / "api"
    offenders = [
        f"{path}:{line}: {text[:60]!r}"
        for path in sorted(package.rglob("*.py"))
        for line, text in _strings(ast.parse(path.read_text()))
        if SQL_IN_A_STRING.search(text)
    ]

    assert offenders == []


def test_the_sql_text_check_catches_sql_in_python():
    tree = ast.parse('"""SELECT in a docstring."""\nQUERY = "SELECT id FROM items"\nOTHER = f"DELETE FROM {table}"')

    found = [text for _, text in _strings(tree) if SQL_IN_A_STRING.match(text)]

    assert found == ["SELECT id FROM items", "DELETE FROM "]
