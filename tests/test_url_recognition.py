"""URL recognition across the registry, as `embed add`, `/embed?url=` and embed.js use it:
real pasted forms give the right key; what is no embeddable video, page, account or post
is refused with one line saying why, never stored under a wrong key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from embedguard import allowlist
from embedguard.providers import NotEmbeddable, default_registry
from embedguard.services import Services

REGISTRY = default_registry()

V = "vimeo:76979871"
H = "abc123def0"
X = "twitter:mswirtschaft"
XP = "twitter:mswirtschaft/status/17"
FB = "facebook:wirtschaft.in.mittelsachsen"
FB_PAGE = "https://www.facebook.com/wirtschaft.in.mittelsachsen"
M = "mastodon:mastodon.social/113000000000000001"

RECOGNISED = [
    # Vimeo, including protocol-relative embed codes from older pages
    ("https://vimeo.com/76979871", V, ""),
    ("//player.vimeo.com/video/76979871", V, ""),
    (f"//player.vimeo.com/video/76979871?h={H}", V, H),
    (f"//player.vimeo.com/video/76979871?h={H}&title=0&byline=0", V, H),
    ("HTTPS://PLAYER.VIMEO.COM/video/76979871", V, ""),
    ("https://vimeo.com/showcase/123/video/76979871", V, ""),
    # YouTube
    ("https://youtu.be/MSwirtsch01", "youtube:MSwirtsch01", ""),
    ("//www.youtube-nocookie.com/embed/MSwirtsch01", "youtube:MSwirtsch01", ""),
    ("https://www.youtube.com/shorts/MSwirtsch01?feature=share", "youtube:MSwirtsch01", ""),
    # X accounts, their tabs, old #! links (plain and percent-encoded), posts
    ("https://x.com/mswirtschaft", X, ""),
    ("https://x.com/MSWirtschaft/media", X, ""),
    ("https://twitter.com/mswirtschaft/tweets", X, ""),
    ("https://twitter.com/mswirtschaft/with_replies", X, ""),
    ("https://twitter.com/mswirtschaft/highlights", X, ""),
    ("https://twitter.com/#!/mswirtschaft", X, ""),
    ("http://twitter.com/#!/MSWirtschaft/status/17", XP, ""),
    ("https://twitter.com/%23!/mswirtschaft", X, ""),
    ("https://twitter.com/%23!/mswirtschaft/status/17", XP, ""),
    ("https://mobile.twitter.com/mswirtschaft/status/17/photo/1", XP, ""),
    ("https://x.com/mswirtschaft/status/17?s=46&t=xyz", XP, ""),
    ("//twitter.com/mswirtschaft", X, ""),
    # Facebook pages, also /people/NAME/ID, page tabs and language subdomains
    ("https://www.facebook.com/people/Wirtschaft/100064123456789/", "facebook:100064123456789", ""),
    (f"{FB_PAGE}/about", FB, ""),
    ("https://de-de.facebook.com/wirtschaft.in.mittelsachsen/", FB, ""),
    ("https://www.facebook.com/pg/wirtschaft.in.mittelsachsen/posts/", FB, ""),
    ("https://web.facebook.com/wirtschaft.in.mittelsachsen?_rdc=1&_rdr", FB, ""),
    (f"//www.facebook.com/plugins/page.php?href={quote(FB_PAGE, safe='')}", FB, ""),
    # Mastodon
    ("https://mastodon.social/@Mastodon/113000000000000001", M, ""),
    ("https://mastodon.social/users/mastodon/statuses/113000000000000001", M, ""),
]

REFUSED = [
    # Facebook features that are no page: they once became facebook:video.php and the like
    ("https://www.facebook.com/video.php?v=10153231379946729", "video"),
    ("https://www.facebook.com/watch/?v=10153231379946729", "video"),
    ("https://www.facebook.com/watch/live/?v=1", "video"),
    ("https://www.facebook.com/livemap?story_fbid=1", "live map"),
    ("https://www.facebook.com/story.php?story_fbid=1&id=2", "post"),
    ("https://www.facebook.com/permalink.php?story_fbid=1&id=2", "post"),
    ("https://www.facebook.com/photo/?fbid=1", "post"),
    ("https://www.facebook.com/photo.php?fbid=1", "post"),
    ("https://www.facebook.com/events/123456/", "event"),
    ("https://www.facebook.com/groups/mittelsachsen/", "group"),
    ("https://www.facebook.com/sharer/sharer.php?u=https://example.de", "sharing"),
    ("https://www.facebook.com/sharer.php?u=https://example.de", "sharing"),
    ("https://www.facebook.com/share/p/abc123/", "sharing"),
    ("https://www.facebook.com/dialog/share?app_id=1", "sharing"),
    ("https://www.facebook.com/plugins/video.php?href=x", "plugin"),
    ("https://www.facebook.com/plugins/post.php?href=x", "plugin"),
    ("https://www.facebook.com/reel/123", "video"),
    ("https://www.facebook.com/stories/123", "story"),
    ("https://www.facebook.com/marketplace/item/1", "Facebook itself"),
    ("https://www.facebook.com/hashtag/mittelsachsen", "Facebook itself"),
    ("https://www.facebook.com/wirtschaft.in.mittelsachsen/posts/pfbid0abc", "not a page"),
    ("https://www.facebook.com/wirtschaft.in.mittelsachsen/videos/1234567890/", "not a page"),
    ("https://www.facebook.com/wirtschaft.in.mittelsachsen/photos/a.1/2/", "not a page"),
    ("https://www.facebook.com/people/Name/notanid", "page id"),
    # X: posts without their account, X's own pages, non-account tabs
    ("https://twitter.com/web/status/1790000000000000001", "without its account"),
    ("https://twitter.com/i/web/status/1790000000000000001", "without its account"),
    ("https://x.com/i/status/1790000000000000001", "without its account"),
    ("https://x.com/home", "page of X itself"),
    ("https://x.com/search?q=mittelsachsen", "page of X itself"),
    ("https://x.com/explore", "page of X itself"),
    ("https://x.com/settings/account", "page of X itself"),
    ("https://twitter.com/intent/tweet?text=hi", "page of X itself"),
    ("https://twitter.com/share?url=x", "page of X itself"),
    ("https://x.com/i/lists/123", "page of X itself"),
    ("https://x.com/mswirtschaft/likes", "neither an account nor a post"),
    ("https://x.com/mswirtschaft/lists", "neither an account nor a post"),
    ("https://x.com/mswirtschaft/status/0179", "not a valid X post id"),
    ("https://twitter.com/#!/search/mittelsachsen", "page of X itself"),
    # YouTube channels and playlists
    ("https://www.youtube.com/@wirtschaftmittelsachsen", "not a video"),
    ("https://www.youtube.com/playlist?list=PL1", "not a video"),
    ("https://www.youtube.com/watch?v=tooshort", "video id"),
    # Mastodon posts seen from another instance, hosts embedguard may not contact
    ("https://mastodon.social/@someone@other.example/1", "another instance"),
    ("https://127.0.0.1/@someone/1", "may contact"),
    ("https://localhost:3000/@someone/1", "may contact"),
    # Nothing any provider shows
    ("https://example.com/video/1", "supported"),
    ("https://vimeo.com/about", "supported"),
    ("javascript:alert(1)//vimeo.com/1", "supported"),
    ("", "supported"),
]  # fmt: skip


@pytest.mark.parametrize(("url", "key", "secret"), RECOGNISED)
def test_real_pasted_urls_give_the_right_key(url: str, key: str, secret: str) -> None:
    ref = REGISTRY.resolve(url)
    assert (ref.key, ref.secret) == (key, secret)
    assert ref.key.partition(":")[0] == ref.provider.name


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_what_is_not_embeddable_is_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(NotEmbeddable) as refused:
        REGISTRY.resolve(url)
    message = str(refused.value)
    assert reason in message
    assert message and "\n" not in message and len(message) < 200
    assert REGISTRY.recognise(url) is None


@pytest.mark.parametrize(
    "url", [url for url, _ in REFUSED if "facebook" in url or "twitter" in url][:12]
)
def test_embed_add_stores_nothing_and_asks_nobody(
    allow: Callable[..., allowlist.AddResult],
    services: Services,
    upstream_requests: list[Any],
    url: str,
) -> None:
    upstream_requests.clear()
    with pytest.raises(allowlist.AllowlistError):
        allow(url)
    assert services.store.list_embeds() == []
    assert upstream_requests == []


def test_the_cli_says_why_in_one_line(tmp_path: Any, capsys: Any, settings: Any) -> None:
    from embedguard.cli import main

    env = {
        "EMBEDGUARD_SECRET_KEYS": "k" * 32,
        "EMBEDGUARD_DATA_DIR": str(tmp_path / "cli"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        code = main(["embed", "add", "https://www.facebook.com/video.php?v=1"])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1 and "video" in err
