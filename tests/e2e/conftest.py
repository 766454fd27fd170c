"""The browser suite's fixtures: the app on a fresh SQLite database, served on 127.0.0.1 by
werkzeug in a thread; Debian's Chromium driven by Playwright; one browser context per person,
at the test's viewport, failing the test on any console error it did not expect.

Every test here is marked `e2e` (pyproject's addopts leave them out of a plain `pytest`);
`make e2e` runs them, and `.ci/run` does after the unit suites."""
from __future__ import annotations

import os
import re
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import flask_migrate
import pytest
from werkzeug.serving import make_server

from collective import create_app
from collective.extensions import db

from .seeds import PASSWORD

#: Debian's Chromium; `.ci/run` installs it with apt-get when it is missing. Playwright's own
#: browser downloads do not work here, so `playwright install` is never run.
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
#: How Chromium reports a response with an error status; the only console error a test may
#: expect, and only for a refusal it names.
RESOURCE_STATUS = re.compile(r"^Failed to load resource: the server responded with a status "
                             r"of (\d{3}) ")


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app on a fresh SQLite database built by the migrations, with CSRF on."""
    path = tmp_path_factory.mktemp("e2e") / "collective-e2e.sqlite3"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "SECRET_KEY": "e2e-secret",
        "WTF_CSRF_ENABLED": True,
        "TESTING": False,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    })
    with app.app_context():
        flask_migrate.upgrade()
    return app


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    """The app served on a free port of 127.0.0.1; its base URL, once it answers."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    try:
        # The socket listens before serve_forever starts, so the first request is answered.
        with urllib.request.urlopen(f"{base_url}/login", timeout=30) as response:
            assert response.status == 200
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, for the whole run."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    """Each browser test runs at desktop (1280x800) and phone (390x844) size."""
    return request.param


@pytest.fixture
def seed(live_app):
    """`with seed(): ...` runs set-up through the real services and commits it."""
    @contextmanager
    def seeding():
        with live_app.app_context():
            yield db.session
            db.session.commit()
    return seeding


class Browse:
    """Opens pages as people, each in a browser context of their own at the test's size, and
    collects the console errors of every page it opened."""

    def __init__(self, browser, base_url: str, viewport: str) -> None:
        self.browser, self.base_url, self.viewport = browser, base_url, viewport
        self.contexts: list = []
        self.errors: list[str] = []
        self.allowed: list[tuple[int, str]] = []

    def page(self):
        """A fresh page, signed in as nobody."""
        context = self.browser.new_context(viewport=VIEWPORTS[self.viewport],
                                           base_url=self.base_url)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        return page

    def _console(self, message) -> None:
        if message.type != "error":
            return
        found = RESOURCE_STATUS.match(message.text)
        url = message.location.get("url", "")
        if found and any(int(found.group(1)) == status and path in url
                         for status, path in self.allowed):
            return
        self.errors.append(f"console error: {message.text} ({url})")

    def expect_refusal(self, status: int, path: str) -> None:
        """The test sends a form the server refuses on purpose with `status` at `path`;
        Chromium logs that response as a console error, which is expected."""
        self.allowed.append((status, path))

    def as_user(self, email: str, password: str = PASSWORD):
        """A page signed in through the login form."""
        from playwright.sync_api import expect

        page = self.page()
        page.goto("/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
        return page

    def shot(self, page, what: str) -> None:
        """A full-page screenshot in tests/e2e/artifacts/, named `what` and the size."""
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{what}-{self.viewport}.png",
                        full_page=True)

    def close(self, failed_test: str | None = None) -> None:
        """Close every page; after a failure, keep a screenshot of each first."""
        for i, context in enumerate(self.contexts):
            if failed_test:
                for page in context.pages:
                    self.shot(page, f"FAILED-{failed_test}-{i}")
            context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Let the browse fixture know whether its test failed."""
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


@pytest.fixture
def browse(browser, live_server, viewport, request) -> Iterator[Browse]:
    """Pages at this test's size; the test fails if any page logged an unexpected error."""
    session = Browse(browser, live_server, viewport)
    try:
        yield session
    finally:
        failed = getattr(request.node, "e2e_failed", False)
        session.close(request.node.originalname if failed else None)
    assert session.errors == []
