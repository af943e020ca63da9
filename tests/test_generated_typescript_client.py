"""TypeScript types generated from the app's own OpenAPI document (openapi-typescript), and a
committed flow written against them with openapi-fetch (tests/typescript/flow.ts):
type-checked by tsc, which fails when the document says less or other than a TypeScript
client needs (a header it does not declare, a request header typed `string | null`, a field
with a default that the generated types would make every request send), then run by node
against the service, which must answer as the types say.

It needs node and the npm packages of tests/typescript/package.json (`npm ci --prefix
tests/typescript`, which `.ci/run` runs where node is installed); it skips, saying which is
missing, elsewhere. The types are generated afresh into a temporary directory on every run.
"""

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from api.config import Settings
from tests import inventory
from tests.processes import DEADLINE, started, until_answered

CHECKS = Path(__file__).parent / "typescript"
MODULES = CHECKS / "node_modules"
GENERATOR = MODULES / "openapi-typescript" / "bin" / "cli.js"
COMPILER = MODULES / "typescript" / "bin" / "tsc"
RUNNER = 'import { flow } from "./out/flow.js";\nconsole.log(JSON.stringify(await flow(process.argv[2])));\n'


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed: the TypeScript client is not checked here")
    if not (GENERATOR.exists() and COMPILER.exists() and (MODULES / "openapi-fetch").exists()):
        pytest.skip("the npm packages are not installed: npm ci --prefix tests/typescript (.ci/run does)")
    return found


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=2 * DEADLINE, check=False)
    assert done.returncode == 0, f"{Path(command[1]).name} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture
def checked(node: str, tmp_path: Path) -> Path:
    """The flow type-checked against types generated from the document, and compiled."""
    (tmp_path / "openapi.json").write_text(json.dumps(inventory.document()))
    _run(node, str(GENERATOR), str(tmp_path / "openapi.json"), "--output", str(tmp_path / "api.d.ts"))
    for name in ("flow.ts", "tsconfig.json"):
        shutil.copy(CHECKS / name, tmp_path / name)
    (tmp_path / "node_modules").symlink_to(MODULES, target_is_directory=True)
    (tmp_path / "package.json").write_text('{"type": "module"}\n')
    (tmp_path / "run.js").write_text(RUNNER)
    # One compiler run: the type-check of `tsc --noEmit`, and JavaScript only if it passes.
    _run(node, str(COMPILER), "--project", str(tmp_path / "tsconfig.json"), "--noEmit", "false",
         "--noEmitOnError", "--outDir", str(tmp_path / "out"))  # fmt: skip
    return tmp_path


async def test_the_typescript_flow_type_checks_and_runs_against_the_service(node, checked, settings: Settings, client):
    assert settings.database_url is not None
    environment = {
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "BEHIND_PGBOUNCER": str(settings.behind_pgbouncer).lower(),
    }
    with started("uvicorn", "--factory", "api.main:create_app", **environment) as (server, base):
        async with httpx.AsyncClient(timeout=DEADLINE) as probe:
            assert (await until_answered(probe, f"{base}/health/ready", server)).status_code == 200
        outcome = json.loads(_run(node, str(checked / "run.js"), base))

    assert outcome["names"] == ["Lamp 1", "Lamp 2", "Lamp 3", "Lamp 5", "Lamp 6", "Lamp 7"]
    assert outcome["notModified"] == 304
    assert outcome["newPrice"] == 1 and outcome["staleDetail"]
    assert outcome["tags"] == ["brass", "lamps"]
    assert len(outcome["snippets"]) == 1 and "<mark>lamp</mark>" in outcome["snippets"][0]
    assert outcome["gone"] == 404
