"""``serve --demo``: throwaway data and the county's kinds of content, with no network.

Metadata and posters are bundled, so the placeholders work offline; after a click the
visitor's browser loads the real provider, as it would on the county's site.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .posters import Poster
from .services import Services
from .settings import Settings
from .store import Embed

ASSETS = Path(__file__).parent / "demo_assets"


@dataclass(frozen=True)
class DemoItem:
    key: str
    title: str
    author: str = ""
    author_url: str = ""
    duration: int | None = None
    width: int = 16
    height: int = 9
    image: str = ""
    content: str = ""


DEMO_ITEMS: tuple[DemoItem, ...] = (
    DemoItem(
        "vimeo:76979871",
        "Leben und Arbeiten in Mittelsachsen",
        "Wirtschaftsförderung Mittelsachsen",
        "https://vimeo.com/",
        154,
        1280,
        720,
        "region.jpg",
    ),
    DemoItem(
        "vimeo:76979872",
        "Fachkräfte für die Region",
        "Wirtschaftsförderung Mittelsachsen",
        "https://vimeo.com/",
        212,
        1280,
        720,
        "skilled-workers.jpg",
    ),
    # Blender Foundation's "Big Buck Bunny": a public video that stays embeddable.
    DemoItem(
        "youtube:aqz-KE-bpKQ",
        "Big Buck Bunny",
        "Blender",
        "https://www.youtube.com/@BlenderOfficial",
        635,
        1280,
        720,
        "region.jpg",
    ),
    DemoItem(
        "mastodon:mastodon.social/@mastodon",
        "@mastodon@mastodon.social",
        "Mastodon",
        "https://mastodon.social/@mastodon",
    ),
    DemoItem(
        "facebook:wirtschaft.in.mittelsachsen",
        "Wirtschaft in Mittelsachsen",
        width=1000,
        height=1000,
        image="facebook-page.jpg",
    ),
    DemoItem(
        "twitter:mswirtschaft", "@mswirtschaft", "@mswirtschaft", "https://x.com/mswirtschaft"
    ),
    DemoItem(
        "twitter:mswirtschaft/status/1790000000000000002",
        "Am 14. Mai öffnen 40 Betriebe in Freiberg ihre Türen: Tag der Ausbildung.",
        "Wirtschaft Mittelsachsen",
        "https://x.com/mswirtschaft",
        content=(
            '<p lang="de" dir="ltr">Am 14. Mai öffnen 40 Betriebe in Freiberg ihre Türen: '
            "Tag der Ausbildung.</p>— Wirtschaft Mittelsachsen (@mswirtschaft) "
            '<a href="https://x.com/mswirtschaft/status/1790000000000000002" target="_blank" '
            'rel="noopener noreferrer nofollow">May 5, 2026</a>'
        ),
    ),
)


def demo_settings(settings: Settings, data_dir: Path) -> Settings:
    return replace(settings, data_dir=data_dir, demo=True)


def seed(services: Services) -> None:
    for item in DEMO_ITEMS:
        if services.registry.get(item.key.partition(":")[0]) is None:
            continue
        services.store.save_embed(_embed(services, item), actor="demo")


def _embed(services: Services, item: DemoItem) -> Embed:
    provider, _, item_id = item.key.partition(":")
    return Embed(
        key=item.key,
        provider=provider,
        item_id=item_id,
        title=item.title,
        author=item.author,
        author_url=item.author_url,
        duration=item.duration,
        width=item.width,
        height=item.height,
        poster=_poster(services, item).to_json(),
        poster_custom=bool(item.image),
        content=item.content,
    )


def _poster(services: Services, item: DemoItem) -> Poster:
    if item.image:
        return services.posters.ingest((ASSETS / item.image).read_bytes())
    return services.posters.neutral(
        item.title, width=1280, height=round(1280 * item.height / item.width)
    )
