"""Debian's headless Chromium for the browser tests, and where their screenshots go.

Screenshots go to ``test-output/screenshots/`` (gitignored). The ones the docs
show go to ``docs/images/`` only with ``SCIMGATE_DOC_IMAGES=1``; other runs
write them beside the rest, so that running the suite leaves the checkout as it
was. A module marked ``needs_chromium`` is skipped when Chromium is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = [
    "CHROMIUM",
    "DOC_IMAGES",
    "SCREENSHOTS",
    "Page",
    "chromium_page",
    "csp_blocked",
    "expect",
    "needs_chromium",
    "shot",
]

CHROMIUM = Path("/usr/bin/chromium")
_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = _ROOT / "test-output" / "screenshots"
DOC_IMAGES = (
    _ROOT / "docs" / "images" if os.environ.get("SCIMGATE_DOC_IMAGES") == "1" else SCREENSHOTS
)

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"
)

# Playwright is imported only when Chromium is installed (without it every browser test is
# skipped); the test modules take Page and expect from here.
if CHROMIUM.exists():
    from playwright.sync_api import Page, expect, sync_playwright


@contextmanager
def chromium_page(profile: Path, *, width: int, clipboard: bool = True) -> Iterator[Page]:
    """A page in a fresh headless Chromium whose profile lives in ``profile``, closed on exit.

    The window is ``width`` by 900 pixels; ``clipboard`` lets the page read and write the
    clipboard (for the copy buttons).
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            viewport={"width": width, "height": 900},
        )
        if clipboard:
            browser.grant_permissions(["clipboard-read", "clipboard-write"])
        try:
            yield browser.new_page()
        finally:
            browser.close()


def shot(page: Page, name: str, *, doc: bool = False) -> None:
    """Save the whole page as ``name``.png, in DOC_IMAGES when ``doc`` is set."""
    folder = DOC_IMAGES if doc else SCREENSHOTS
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def csp_blocked(page: Page) -> list[str]:
    """The console messages in which the content security policy blocked something, as they come."""
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return blocked
