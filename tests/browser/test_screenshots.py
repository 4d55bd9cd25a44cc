"""Screenshots of the placeholders for the README, made by the browser tests themselves.

    EMBEDGUARD_SCREENSHOT_DIR=docs/screenshots .venv/bin/pytest tests/browser/test_screenshots.py

Without the variable they go to a temporary directory, so a normal test run changes no file.
Each is exactly one frame: the page never needs scrolling, so nothing is cut off.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from .harness import ContextFactory
from .test_accessibility import Site, site  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.browser

# name: (path, frame width, frame height) - a 320 px phone with the README's 16:9 snippet,
# 300/500 px sidebars with the Facebook and X snippets, and a desktop article.
SHOTS = {
    "phone": ("/vimeo/76979871", 280, 158),
    "sidebar-facebook": ("/facebook/wirtschaft.in.mittelsachsen", 300, 420),
    "sidebar-x": ("/twitter/mswirtschaft", 500, 640),
    "desktop": ("/vimeo/76979871", 800, 450),
}


@pytest.mark.parametrize("shot", list(SHOTS))
@pytest.mark.parametrize("lang", ["de", "en"])
def test_placeholder_screenshot(
    site: Site,  # noqa: F811
    context_factory: ContextFactory,
    screenshot_dir: Path,
    lang: str,
    shot: str,
) -> None:
    path, width, height = SHOTS[shot]
    context = context_factory(viewport={"width": width, "height": height}, color_scheme="light")
    page = context.new_page()
    page.goto(f"{site.base}{path}?lang={lang}", wait_until="networkidle")
    assert page.locator("form.choices button").count() == 2
    for button in page.locator("form.choices button").all():
        box = button.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height
    target = screenshot_dir / f"placeholder-{lang}-{shot}.png"
    page.screenshot(path=str(target), full_page=True)
    with Image.open(target) as image:
        assert image.size == (width, height)  # one frame, nothing below it
