"""Post-deploy smoke check of a deployed stack (``make smoke URL=... TOKEN=...``, docs/DEPLOY.md).

Three requests a user's first minutes depend on: the health check (database and cache through the
stack's network), one authenticated read (the JWT authorizer, the application login, just-in-time
provisioning of the token's user) and one export whose presigned link is fetched (the S3 gateway
endpoint, the bucket key, the link's signature). Standard library only: it runs from any machine with
Python 3.11+. Prints one line per check; exits 1 at the first failure, saying which and why.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urljoin, urlparse

TIMEOUT_SECONDS = 30
EXPORT_POLLS = 30  # a large export runs in the worker: up to 30 x 2 s for its link
EXPORT_POLL_SECONDS = 2.0


class SmokeFailure(Exception):
    pass


def _request(url: str, token: str | None = None) -> tuple[int, bytes]:
    if urlparse(url).scheme not in ("https", "http"):
        raise SmokeFailure(f"not an HTTP(S) URL: {url}")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()
    except (urllib.error.URLError, TimeoutError) as error:
        raise SmokeFailure(f"{url}: no answer ({error})") from None


def _json(what: str, url: str, token: str | None, expected: tuple[int, ...] = (200,)) -> tuple[int, Any]:
    status, body = _request(url, token)
    if status not in expected:
        raise SmokeFailure(f"{what}: HTTP {status}: {body[:300].decode(errors='replace')}")
    return status, json.loads(body)


def run(base_url: str, token: str, *, sleep: Any = time.sleep) -> list[str]:
    """The checks, in order; a line per passed check. Raises SmokeFailure at the first that fails."""
    api = base_url.rstrip("/") + "/api/v1"
    lines = []
    _, health = _json("health", f"{api}/health", None)
    if health.get("status") != "ok":
        raise SmokeFailure(f"health: {health}")
    lines.append(f"ok  health: database {health.get('database')}, cache {health.get('cache')}")
    _, page = _json("authenticated read", f"{api}/intervention-plans/pending-review?limit=1", token)
    lines.append(f"ok  authenticated read: pending-review answered, total {page.get('total')}")
    status, export = _json("export", f"{api}/export/pending-review/csv", token, expected=(200, 202))
    for _ in range(EXPORT_POLLS if status == 202 else 0):
        sleep(EXPORT_POLL_SECONDS)
        _, export = _json("export status", urljoin(base_url, export.get("status_url", "")), token)
        if export.get("download_url") or export.get("status") == "failed":
            break
    link = export.get("download_url")
    if not link:
        raise SmokeFailure(f"export: no download link ({export.get('status', 'no status')})")
    status, content = _request(link)
    if status != 200:
        raise SmokeFailure(f"export link: HTTP {status}: {content[:300].decode(errors='replace')}")
    lines.append(f"ok  export link fetched: {len(content)} bytes")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the stack's ApiUrl output")
    arguments = parser.parse_args(argv)
    token = os.environ.get("SMOKE_TOKEN", "")
    if not token:
        print("smoke: set TOKEN (an ID token of a user of the stack)", file=sys.stderr)
        return 2
    try:
        for line in run(arguments.url, token):
            print(line)
    except SmokeFailure as failure:
        print(f"FAILED {failure}", file=sys.stderr)
        return 1
    print("smoke: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
