"""`make plan-document-picture`: pages 1 and 2 of the plan document of the demo school's student with the
most plans, drawn from freshly seeded demo data (with its review history) as PNG into a folder (docs/ by
default; the README shows page 1).

It never touches a database of yours: the demo data goes into an embedded PostgreSQL in a temporary folder,
stopped and deleted afterwards. The pages are drawn by poppler's pdftoppm (Debian's poppler-utils).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import text

from eduautismo_local.cli import LocalStack
from eduautismo_local.seed import (
    DEMO_COORDINATOR,
    DEMO_ORGANIZATIONS,
    SeedSize,
    seed_demo,
)

PAGES = (1, 2)
RESOLUTION_DPI = 80
# The demo student with the most plans that are not archived, then the most reviews.
FULLEST_STUDENT = text(
    "SELECT p.student_id FROM intervention_plans p LEFT JOIN plan_reviews r ON r.plan_id = p.id "
    "WHERE p.organization_id = :organization AND p.status <> 'archived' "
    "GROUP BY p.student_id ORDER BY count(DISTINCT p.id) DESC, count(r.id) DESC, p.student_id LIMIT 1"
)


def demo_document_pdf() -> bytes:
    """The plan document the demo coordinator gets for the fullest student (demo data just seeded)."""
    from eduautismo.context import build_context
    from eduautismo.db.engine import get_engine
    from eduautismo.db.migrate import upgrade
    from eduautismo.domain import Role
    from eduautismo.identity.principal import Principal
    from eduautismo.plan_document.pdf import render
    from eduautismo.plan_document.schemas import PlanDocumentRequest
    from eduautismo.plan_document.service import read_document

    engine = get_engine()
    upgrade(engine)
    seed_demo(engine, SeedSize())  # with its review history
    organization_id = DEMO_ORGANIZATIONS[0][0]
    with engine.connect() as connection:
        student_id = connection.execute(FULLEST_STUDENT, {"organization": organization_id}).scalar_one()
    coordinator = Principal(
        DEMO_COORDINATOR.id, organization_id, DEMO_COORDINATOR.email, DEMO_COORDINATOR.name, Role.COORDINATOR
    )
    request = PlanDocumentRequest(student_id=uuid.UUID(str(student_id)))
    return render(read_document(build_context(coordinator), request))


def draw_pages(content: bytes, folder: Path) -> list[Path]:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise SystemExit("pdftoppm is missing: `make plan-document-picture` installs Debian's poppler-utils")
    written = []
    with tempfile.TemporaryDirectory(prefix="plan-document-picture-") as directory:
        source = Path(directory) / "document.pdf"
        source.write_bytes(content)
        for page in PAGES:
            target = folder / f"plan-document-page-{page}"
            pages = ["-f", str(page), "-l", str(page)]
            options = ["-r", str(RESOLUTION_DPI), "-png", "-singlefile", *pages]
            subprocess.run([pdftoppm, *options, str(source), str(target)], check=True)
            written.append(target.with_suffix(".png"))
    return written


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    folder = Path(arguments[0] if arguments else "docs")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="plan-document-demo-") as data_dir:
        os.environ.pop("DATABASE_URL", None)  # never seed into the caller's database
        stack = LocalStack(Path(data_dir))
        try:
            stack.database()
            content = demo_document_pdf()
        finally:
            stack.stop()
    for path in draw_pages(content, folder):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
