"""Open the API docs page in Chromium and print what it drew and fetched, as JSON.

Run in its own process by test_docs_browser: Playwright's sync API allows one running
instance per thread, and the e2e suite's session-wide browser may be that instance.
"""

from __future__ import annotations

import json
import sys

from playwright.sync_api import sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS


def probe(url: str) -> dict:
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.on("request", lambda request: requested.append(request.url))
        page.goto(url)
        page.locator(".opblock-summary-path", has_text="/images/import").wait_for()
        result = {
            "paths": page.locator(".opblock-summary-path").all_inner_texts(),
            "authorize": page.get_by_role("button", name="Authorize").is_visible(),
            "requested": requested,
        }
        browser.close()
    return result


if __name__ == "__main__":
    sys.stdout.write(json.dumps(probe(sys.argv[1])))
