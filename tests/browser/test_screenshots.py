"""Screenshots of the placeholder for the README, made by the browser tests themselves.

    EMBEDGUARD_SCREENSHOT_DIR=docs/screenshots .venv/bin/pytest tests/browser/test_screenshots.py

Without the variable they go to a temporary directory, so a normal test run changes no file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from .harness import ContextFactory
from .test_accessibility import VIDEO, Site, site  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.browser

SIZES = {"desktop": (800, 450), "320px": (320, 180)}  # inside a 16:9 iframe of that size


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["de", "en"])
def test_placeholder_screenshot(
    site: Site,  # noqa: F811
    context_factory: ContextFactory,
    screenshot_dir: Path,
    lang: str,
    size: str,
) -> None:
    width, height = SIZES[size]
    context = context_factory(viewport={"width": width, "height": height}, color_scheme="light")
    page = context.new_page()
    page.goto(f"{site.base}{VIDEO}?lang={lang}", wait_until="networkidle")
    assert page.locator("form.choices button").count() == 2
    target = screenshot_dir / f"placeholder-{lang}-{size}.png"
    page.screenshot(path=str(target), full_page=True)
    with Image.open(target) as image:
        assert image.width == width
        assert image.height >= height  # at 320 px the frame's page scrolls; nothing is cut
