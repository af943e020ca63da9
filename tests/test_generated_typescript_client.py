"""TypeScript types generated from the app's own OpenAPI document (openapi-typescript), and a
committed flow written against them with openapi-fetch (tests/typescript/flow.ts), type-checked
by `tsc --noEmit`: it fails when the document says less or other than a TypeScript client
needs (a header it does not declare, a request header typed `string | null`, a field with a
default that the generated types would make every request send).

It needs node and the npm packages of tests/typescript/package.json (`npm ci --prefix
tests/typescript`, which `.ci/run` runs where node is installed); it skips, saying which is
missing, elsewhere. The types are generated afresh into a temporary directory on every run.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import inventory
from tests.processes import DEADLINE

CHECKS = Path(__file__).parent / "typescript"
MODULES = CHECKS / "node_modules"
GENERATOR = MODULES / "openapi-typescript" / "bin" / "cli.js"
COMPILER = MODULES / "typescript" / "bin" / "tsc"


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed: the TypeScript client is not checked here")
    if not (GENERATOR.exists() and COMPILER.exists() and (MODULES / "openapi-fetch").exists()):
        pytest.skip("the npm packages are not installed: npm ci --prefix tests/typescript (.ci/run does)")
    return found


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=2 * DEADLINE, check=False)
    assert done.returncode == 0, f"{' '.join(command[1:2])} failed:\n{done.stdout}{done.stderr}"
    return done.stdout + done.stderr


def test_the_typescript_flow_type_checks_against_types_generated_from_the_document(node, tmp_path):
    (tmp_path / "openapi.json").write_text(json.dumps(inventory.document()))
    _run([node, str(GENERATOR), str(tmp_path / "openapi.json"), "--output", str(tmp_path / "api.d.ts")])
    for name in ("flow.ts", "tsconfig.json"):
        shutil.copy(CHECKS / name, tmp_path / name)
    (tmp_path / "node_modules").symlink_to(MODULES, target_is_directory=True)

    _run([node, str(COMPILER), "--project", str(tmp_path / "tsconfig.json")])

    assert "If-None-Match" in (tmp_path / "api.d.ts").read_text()  # what the flow's 304 relies on
