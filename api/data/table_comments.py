"""What the DBA wrote about each table and column (COMMENT ON in migrations/), for the API's
documentation: read from the migration files, so the OpenAPI document needs no database.
The suite checks that what is read here is what the migrated database holds."""

import re
from functools import cache
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

COMMENT = re.compile(r"COMMENT ON (TABLE|COLUMN) (\w+(?:\.\w+)?) IS '((?:[^']|'')*)';")
DROP_TABLE = re.compile(r"^DROP\s+TABLE\s+(\w+);", re.MULTILINE)


@cache
def comments(migrations_dir: Path = MIGRATIONS_DIR) -> dict[str, str]:
    """`table` and `table.column` to their comments, as the migrations leave them (in order:
    a later comment on the same thing wins, a dropped table takes its comments with it).
    Rollbacks are left out."""
    found: dict[str, str] = {}
    for path in sorted(migrations_dir.glob("*.sql")):
        if not path.name.endswith(".rollback.sql"):
            text = path.read_text()
            for dropped in DROP_TABLE.findall(text):
                found = {name: said for name, said in found.items() if name.split(".")[0] != dropped}
            for _, name, said in COMMENT.findall(text):
                found[name] = said.replace("''", "'")
    return found
