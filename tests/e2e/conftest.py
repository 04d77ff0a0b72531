"""Real-browser fixtures: Debian's Chromium driven by Playwright against live_server."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("LIGHTBOX_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium reaches for Google services this machine cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: run `make install-test` (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls that
    # tests make beside it are still synchronous, so Django's guard is lifted here only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def log_in_on(page, live_server, username: str, password: str):
    """Log in through the real login page of `page` (any browser context)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/products/")
    return page


@pytest.fixture
def log_in(page, live_server):
    def log_in_as(username: str, password: str):
        return log_in_on(page, live_server, username, password)

    return log_in_as


def _worker_env(settings) -> dict[str, str]:
    """The environment of a worker process on the test database, Redis and media folder."""
    from django.db import connection

    from lightbox.services import database_url

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": database_url(db),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@pytest.fixture
def burst_worker(live_server, settings, redis_conn):
    """Runs a real `manage.py rqworker --burst` to the end: every job queued (and every job
    those jobs queue) is done when it returns."""
    import subprocess
    import sys

    def work(timeout: float = 600) -> None:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "rqworker", "interactive", "high", "default", "low", "--burst"],
            env=_worker_env(settings),
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if done.returncode:
            pytest.fail(f"the burst worker exited with {done.returncode}:\n{done.stderr[-3000:]}")

    return work


@pytest.fixture
def live_worker(live_server, settings, redis_conn):
    """A real `manage.py rqworker` on the test database, Redis and media folder."""
    import subprocess
    import sys

    worker = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "manage.py",
            "rqworker",
            "interactive",
            "high",
            "default",
            "low",
            "--with-scheduler",
        ],
        env=_worker_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
