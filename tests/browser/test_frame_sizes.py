"""The choice is always in view: every provider's placeholder, in both languages and both
colour schemes, at every frame size a real page gives it (280x158 phones up to 1280x720,
500 px sidebars, and 200 % zoom), shows both consent buttons inside the frame, with no
scrolling, and the line that says who provides the content; the full notice opens over the
preview and keeps the buttons in view.

The page is opened at the frame's size (a frame's document sees exactly its frame as the
viewport); browser zoom at 200 % gives a frame's document half the CSS pixels, so the zoomed
cases are the frames' sizes halved. One page per provider and language is reused across all
sizes, so the whole matrix runs in seconds.
"""

from __future__ import annotations

from typing import Any

import pytest

from .harness import ContextFactory
from .test_accessibility import Site, site  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.browser

# Frames at 100 %: 16:9 video on 320/360 px phones (README snippet, 20 px margins), the
# Facebook/X snippets on a 320 px phone (their aspect ratios at 280 px), sidebars of
# 300-500 px, and desktop sizes.
FRAMES = (
    (280, 158), (320, 180), (328, 185), (360, 203), (280, 305), (280, 356), (280, 392),
    (300, 250), (300, 420), (500, 281), (500, 600), (500, 700), (550, 600), (640, 360),
    (800, 450), (1280, 720),
)  # fmt: skip
# The same frames at 200 % zoom, where that still leaves at least the smallest frame.
ZOOMED = tuple(
    (w // 2, h // 2) for w, h in (*FRAMES, (560, 316)) if w // 2 >= 280 and h // 2 >= 158
)
SIZES = tuple(dict.fromkeys((*FRAMES, *ZOOMED)))
KINDS = {
    "vimeo": "/vimeo/76979871",
    "facebook": "/facebook/wirtschaft.in.mittelsachsen",
    "facebook-tile": "/facebook/landkreis.mittelsachsen",  # no image: the neutral tile
    "twitter-timeline": "/twitter/mswirtschaft",
    "twitter-post": "/twitter/mswirtschaft/status/1790000000000000002",
    # The providers added since inherit the same placeholder (demo items, see demo.py).
    "youtube": "/youtube/aqz-KE-bpKQ",
    "mastodon-account": "/mastodon/mastodon.social/@mastodon",
}
PROVIDER_NAMES = {
    "vimeo": "Vimeo",
    "facebook": "Facebook",
    "twitter": "X (",
    "youtube": "YouTube",
    "mastodon": "Mastodon",
    "generic": "",
}

# Measures one state: the buttons' boxes, the lead line's box, and whether the document
# scrolls. Rounded to whole pixels; a box must lie fully inside the viewport.
MEASURE = """() => {
  const w = innerWidth, h = innerHeight;
  const inside = (el) => {
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.left >= -0.5 && r.top >= -0.5
      && r.right <= w + 0.5 && r.bottom <= h + 0.5;
  };
  const buttons = [...document.querySelectorAll("form.choices button")];
  const root = document.scrollingElement;
  return {
    buttons: buttons.length,
    buttonsInside: buttons.every(inside),
    leadInside: inside(document.querySelector(".lead")),
    lead: (document.querySelector(".lead") || {}).textContent || "",
    moreInside: inside(document.querySelector("a[href='#eg-more']")),
    scrolls: root.scrollHeight > h + 0.5 || root.scrollWidth > w + 0.5,
  };
}"""
WITH_NOTICE_OPEN = """() => {
  location.hash = "eg-more";
  const w = innerWidth, h = innerHeight, root = document.scrollingElement;
  const notice = document.getElementById("eg-more").getBoundingClientRect();
  const buttons = [...document.querySelectorAll("form.choices button")].map(
    (b) => b.getBoundingClientRect());
  const result = {
    noticeShown: notice.height > 0,
    buttonsInside: buttons.every((r) => r.top >= -0.5 && r.bottom <= h + 0.5
      && r.left >= -0.5 && r.right <= w + 0.5),
    overlaps: buttons.some((r) => r.top < notice.bottom - 0.5),
    scrolls: root.scrollHeight > h + 0.5,
  };
  location.hash = "eg-title";  // what the Close link does
  return result;
}"""


def _problems(size: tuple[int, int], state: dict[str, Any], opened: dict[str, Any]) -> list[str]:
    where = f"{size[0]}x{size[1]}"
    found = []
    if state["buttons"] != 2 or not state["buttonsInside"]:
        found.append(f"{where}: buttons not both inside the frame")
    if state["scrolls"]:
        found.append(f"{where}: the frame's document scrolls")
    if not state["leadInside"]:
        found.append(f"{where}: the provider line is not in view")
    if not state["moreInside"]:
        found.append(f"{where}: the link to the full notice is not in view")
    if not opened["noticeShown"] or not opened["buttonsInside"] or opened["overlaps"]:
        found.append(f"{where}: the open notice hides or pushes out the buttons")
    if opened["scrolls"]:
        found.append(f"{where}: the open notice makes the document scroll")
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_both_choices_in_view_at_every_frame_size(
    site: Site,  # noqa: F811
    context_factory: ContextFactory,
    kind: str,
    lang: str,
    scheme: str,
) -> None:
    context = context_factory(viewport={"width": 800, "height": 450}, color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{site.base}{KINDS[kind]}?lang={lang}", wait_until="networkidle")
    name = PROVIDER_NAMES[kind.split("-")[0]]
    problems: list[str] = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        state = page.evaluate(MEASURE)
        opened = page.evaluate(WITH_NOTICE_OPEN)
        problems += _problems((width, height), state, opened)
        assert name in state["lead"], state["lead"]
    assert problems == [], "\n".join(problems)


def test_the_matrix_covers_the_sizes_the_issue_names() -> None:
    assert {(280, 158), (320, 180), (500, 600), (640, 360), (1280, 720)} <= set(SIZES)
    assert (640, 360) in ZOOMED and (280, 158) in ZOOMED  # 1280x720 and 560x316 at 200 %
    assert min(w for w, _ in SIZES) == 280 and min(h for _, h in SIZES) == 158
