"""Browser suite harness: the demo server in a subprocess, Debian's Chromium through Playwright.

Run with ``make test-browser`` (sets HUB_BROWSER_TESTS=1). ``make test`` skips this folder: it
needs Chromium and Playwright, which the main suite does not.

- ``demo``: ``manage.py rundemo`` on a free port with a fresh SQLite file (or
  HUB_BROWSER_DATABASE_URL), no Redis — the state a new operator gets from ``make run``.
- ``owner``/``viewer``: pages of logged-in browser contexts (the demo owner; a viewer member
  created for the suite).
- ``shot(page, name)``: saves ``artifacts/screenshots/<name>.png``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

if os.environ.get("HUB_BROWSER_TESTS") != "1":
    # Collected only by `make test-browser`; keeps `make test` free of browser dependencies.
    collect_ignore_glob = ["test_*.py"]

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
VIEWER_LOGIN = "viewer@example.com"
VIEWER_PASSWORD = "viewer-pass-1234"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")

_CREATE_VIEWER = f"""
from django.contrib.auth import get_user_model
from tenants.models import Membership, Tenant
user, _ = get_user_model().objects.get_or_create(username={VIEWER_LOGIN!r}, email={VIEWER_LOGIN!r})
user.set_password({VIEWER_PASSWORD!r})
user.save()
Membership.objects.update_or_create(
    user=user, defaults={{"tenant": Tenant.objects.get(slug="demo"), "role": "viewer"}}
)
"""


def chromium_path() -> str:
    configured = os.environ.get("HUB_CHROMIUM")
    for candidate in ((configured,) if configured else ()) + CHROMIUM_CANDIDATES:
        if candidate and shutil.which(candidate):
            return candidate
    pytest.exit("Chromium not found: `apt-get install -y chromium` (make test-browser does it).")


@pytest.fixture(scope="session")
def demo():
    from sandbox.testing import DemoServer

    with DemoServer(database_url=os.environ.get("HUB_BROWSER_DATABASE_URL")) as server:
        server.manage("shell", "-c", _CREATE_VIEWER)
        yield server


@pytest.fixture(scope="session")
def api(demo):
    with demo.api() as client:
        yield client


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(
        executable_path=chromium_path(), headless=True, args=["--no-sandbox"]
    )
    yield browser
    browser.close()


def log_in(page, login: str, password: str) -> None:
    """Log in through the console's own form."""
    page.goto("/console/login/")
    page.fill("#id_username", login)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/console/$"))


def _context(browser, demo):
    context = browser.new_context(base_url=demo.base_url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    return context


@pytest.fixture(scope="session")
def owner_state(browser, demo, tmp_path_factory) -> str:
    """A logged-in owner's cookies, saved once and loaded by every ``owner`` page."""
    context = _context(browser, demo)
    page = context.new_page()
    log_in(page, demo.info["login"], demo.info["password"])
    path = str(tmp_path_factory.mktemp("auth") / "owner.json")
    context.storage_state(path=path)
    context.close()
    return path


@pytest.fixture
def anonymous(browser, demo):
    context = _context(browser, demo)
    yield context.new_page()
    context.close()


@pytest.fixture
def owner(browser, demo, owner_state):
    context = browser.new_context(
        base_url=demo.base_url, viewport={"width": 1400, "height": 900}, storage_state=owner_state
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def viewer(browser, demo):
    context = _context(browser, demo)
    page = context.new_page()
    log_in(page, VIEWER_LOGIN, VIEWER_PASSWORD)
    yield page
    context.close()


@pytest.fixture(scope="session")
def shot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
