"""Readable names for Facebook pages, and post dates in the page's language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from markupsafe import Markup
from starlette.testclient import TestClient

from embedguard.post_dates import localize_post_dates
from embedguard.providers import default_registry
from embedguard.store import Embed
from embedguard.titles import readable_slug, readable_title

REGISTRY = default_registry()


@pytest.mark.parametrize(
    ("slug", "title"),
    [
        ("wirtschaft.in.mittelsachsen", "Wirtschaft in Mittelsachsen"),
        ("landkreis-mittelsachsen", "Landkreis Mittelsachsen"),
        ("stadt_freiberg", "Stadt Freiberg"),
        ("in.der.region", "In der Region"),
        ("NASA", "NASA"),
        ("123456789", ""),
    ],
)
def test_readable_slug(slug: str, title: str) -> None:
    assert readable_slug(slug) == title


def test_a_title_that_is_only_the_address_is_replaced() -> None:
    facebook, vimeo = REGISTRY.get("facebook"), REGISTRY.get("vimeo")
    assert facebook is not None and vimeo is not None
    slug = "wirtschaft.in.mittelsachsen"
    assert readable_title(slug, slug, facebook) == "Wirtschaft in Mittelsachsen"
    assert readable_title("Unsere Seite", slug, facebook) == "Unsere Seite"
    assert readable_title("", "123", facebook) == "Facebook"
    # Stored before embed add gave page numbers no title: the number is no title either.
    assert readable_title("123", "123", facebook) == "Facebook"
    assert readable_title("", "76979871", vimeo) == "Vimeo"
    assert readable_title("76979871", "76979871", vimeo) == "Vimeo"


POST = Markup(
    '<p lang="de">Tag der Ausbildung.</p>— Wirtschaft (@mswirtschaft) '
    '<a href="https://x.com/mswirtschaft/status/1" target="_blank">May 5, 2026</a>'
)


def test_post_dates_follow_the_page_language() -> None:
    assert ">5. Mai 2026</a>" in localize_post_dates(POST, "de")
    assert ">May 5, 2026</a>" in localize_post_dates(POST, "en")
    # Only a date that is a link's whole text; impossible dates stay as they are.
    assert localize_post_dates("<p>May 5, 2026</p>", "de") == "<p>May 5, 2026</p>"
    odd = '<a href="x">February 30, 2026</a>'
    assert localize_post_dates(odd, "de") == odd


def test_the_placeholder_shows_the_german_date(
    client: TestClient, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed("twitter:mswirtschaft")
    stored_embed("twitter:mswirtschaft/status/1", content=str(POST), title="Tag der Ausbildung.")
    page = client.get("/twitter/mswirtschaft/status/1?lang=de").text
    assert "5. Mai 2026" in page and "May 5, 2026" not in page
    timeline = client.get("/twitter/mswirtschaft?lang=de").text
    assert "5. Mai 2026" in timeline
