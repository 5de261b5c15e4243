"""A front-end team's client, built as they would: openapi-typescript (7, pinned) generates the types from
the committed openapi.json, openapi-fetch calls through them, and a small program (pending-review, create
plan, the 304 path, an export and its job, error codes, stats) type-checks under `tsc --strict` with no
cast, no `any` and no non-null assertion."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from tests.contract.conftest import ROOT

PROGRAM = Path(__file__).resolve().parent / "typescript" / "client.ts"
TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noUncheckedIndexedAccess": True,
        "noEmit": True,
        "target": "ES2022",
        "module": "ESNext",
        "moduleResolution": "Bundler",
        "lib": ["ES2022", "DOM"],
        "skipLibCheck": True,  # node_modules' declarations; api.ts is a .ts file, checked in full
    },
    "files": ["client.ts"],
}


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_the_program_has_no_escape_hatch() -> None:
    # Given the program a front-end developer wrote against the generated client
    code = re.sub(r"//.*", "", PROGRAM.read_text(encoding="utf-8"))
    # Then it never overrides the types it was given
    assert not re.search(r"\bas\s+(?!const\b)\w", code), "a cast"
    assert not re.search(r"\bany\b|@ts-|[\w)\]]!(?=[.;,)\s])", code), (
        "any, a ts directive or a non-null assertion"
    )


def test_the_generated_client_type_checks_under_strict(node_bin: Path, tmp_path: Path) -> None:
    # Given the types generated from the committed document, next to the program
    generated = _run(
        [str(node_bin / "openapi-typescript"), str(ROOT / "openapi.json"), "-o", "api.ts"], tmp_path
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    shutil.copy(PROGRAM, tmp_path / "client.ts")
    (tmp_path / "node_modules").symlink_to(node_bin.parent)
    (tmp_path / "tsconfig.json").write_text(json.dumps(TSCONFIG), encoding="utf-8")
    # When tsc checks the program strictly
    checked = _run([str(node_bin / "tsc"), "-p", "tsconfig.json"], tmp_path)
    # Then it compiles: every answer, header and error code it reads is typed by the document
    assert checked.returncode == 0, checked.stdout + checked.stderr
