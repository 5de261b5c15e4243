"""`make package`: build the shared layer for the Lambda platform and zip every function, then report
each artifact's size and check Lambda's limits (layer + function: 50 MiB zipped, 250 MiB unzipped).

The layer's dependencies come from PyPI as manylinux wheels for CPython 3.12 on aarch64 (the template's
runtime and Graviton architecture), whatever machine builds it: pure wheels or manylinux2014 /
manylinux_2_28 aarch64 ones (the python3.12 runtime, Amazon Linux 2023, has glibc 2.34), never a source
build. Artifacts land in build/package/.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "package"
LAYER_SOURCE = ROOT / "layers" / "shared"
ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024
SKIPPED = {"__pycache__", ".mypy_cache", ".pytest_cache"}
PYTHON_VERSION = "3.12"
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")


def build_layer(target: Path) -> None:
    """python/ holds what the layer puts on sys.path: the dependencies and the eduautismo package."""
    site = target / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *(option for platform in PLATFORMS for option in ("--platform", platform)),
            "--implementation",
            "cp",
            "--python-version",
            PYTHON_VERSION,
            "--only-binary=:all:",
            "--target",
            str(site),
            "-r",
            str(LAYER_SOURCE / "requirements.txt"),
        ],
        check=True,
    )
    shutil.copytree(
        LAYER_SOURCE / "eduautismo", site / "eduautismo", ignore=shutil.ignore_patterns(*SKIPPED, "*.pyc")
    )


def zip_tree(source: Path, archive: Path) -> tuple[int, int]:
    """Zip ``source`` (paths relative to it); return (zipped, unzipped) sizes in bytes."""
    unzipped = 0
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in sorted(source.rglob("*")):
            if path.is_file() and not SKIPPED.intersection(path.parts) and path.suffix != ".pyc":
                bundle.write(path, path.relative_to(source))
                unzipped += path.stat().st_size
    return archive.stat().st_size, unzipped


def mebibytes(size: int) -> str:
    return f"{size / 1024 / 1024:.2f} MiB" if size >= 1024 * 1024 else f"{size / 1024:.1f} KiB"


def main() -> int:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    build_layer(OUT / "layer")
    layer_zipped, layer_unzipped = zip_tree(OUT / "layer", OUT / "shared-layer.zip")
    report = [{"artifact": "shared-layer.zip", "zipped": layer_zipped, "unzipped": layer_unzipped}]
    failures = []
    for function_dir in sorted(path for path in (ROOT / "functions").iterdir() if path.is_dir()):
        zipped, unzipped = zip_tree(function_dir, OUT / f"{function_dir.name}.zip")
        report.append({"artifact": f"{function_dir.name}.zip", "zipped": zipped, "unzipped": unzipped})
        if zipped + layer_zipped >= ZIPPED_LIMIT:
            failures.append(
                f"{function_dir.name}: layer + function {mebibytes(zipped + layer_zipped)} zipped"
            )
        if unzipped + layer_unzipped >= UNZIPPED_LIMIT:
            failures.append(
                f"{function_dir.name}: layer + function {mebibytes(unzipped + layer_unzipped)} unzipped"
            )
    width = max(len(row["artifact"]) for row in report)
    print(f"{'artifact':<{width}}  {'zipped':>10}  {'unzipped':>10}")
    for row in report:
        print(f"{row['artifact']:<{width}}  {mebibytes(row['zipped']):>10}  {mebibytes(row['unzipped']):>10}")
    (OUT / "sizes.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    for failure in failures:
        print(f"over Lambda's limit: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
