"""Swagger UI works offline: /docs and everything it loads come from the local server, and a real browser
(Debian's chromium, headless) can authorize with a token and run an operation from it."""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine

from eduautismo.domain import Role
from tests.support.factories import Factory
from tests.support.live_server import running_server, token_for

PENDING_REVIEW_PATH = "/api/v1/intervention-plans/pending-review"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class _References(HTMLParser):
    """Every src and href of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("src", "href") and value]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read()


@pytest.fixture
def server(db: Engine) -> Iterator[str]:
    with running_server() as base:
        yield base


def test_docs_and_every_asset_it_references_load_from_the_local_server(server: str) -> None:
    # Given the Swagger UI page
    status, page = _get(f"{server}/docs")
    assert status == 200
    references = _References()
    references.feed(page.decode())
    # Then it references its stylesheet and script, all on this server (no scheme, no other host)
    assert len(references.found) >= 2
    for reference in references.found:
        parts = urlsplit(reference)
        assert (parts.scheme, parts.netloc) == ("", ""), reference
        assert reference.startswith("/"), reference
        # And each of them, and the document the page asks for, loads
        asset_status, body = _get(f"{server}{reference}")
        assert asset_status == 200 and len(body) > 1_000, reference
    assert b'"/openapi.json"' in page
    assert _get(f"{server}/openapi.json")[0] == 200


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless chromium driven by chromedriver; with every host but loopback unresolvable, so a page that
    needs the internet fails here. Missing browser: a failure, never a skip (`make test` installs it)."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail(
            f"{CHROMIUM} and {CHROMEDRIVER} are required: apt-get install -y chromium chromium-driver"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


def test_swagger_ui_authorizes_with_a_token_and_runs_an_operation(
    server: str, factory: Factory, browser: object
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    # Given a coordinator's token and Swagger UI open in the browser
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    token = token_for(coordinator)
    browser.get(f"{server}/docs")
    wait = WebDriverWait(browser, 60)

    def click(selector: str) -> None:
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, selector))).click()

    # When the token is entered in the Authorize dialog
    click("button.authorize")
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".modal-ux input"))).send_keys(token)
    click(".modal-ux button.authorize")
    click(".modal-ux button.btn-done")
    # And the pending-review operation is run with "Try it out" / "Execute"
    operation = f'.opblock-get:has(.opblock-summary-path[data-path="{PENDING_REVIEW_PATH}"])'
    click(f"{operation} .opblock-summary-control")
    click(f"{operation} .try-out__btn")
    click(f"{operation} .execute")
    # Then the live response is a 200
    status = wait.until(
        ec.visibility_of_element_located(
            (By.CSS_SELECTOR, f"{operation} .live-responses-table tbody .response-col_status")
        )
    )
    assert status.text.strip().startswith("200"), status.text
