"""The account with picked posts, as X and Mastodon share it: which posts an account's
placeholder lists, in which order, and the metadata a post gets from its text."""

from __future__ import annotations

from typing import Any

import pytest

from embedguard.providers import default_registry
from embedguard.providers.base import ProviderError
from embedguard.providers.picked_posts import SHOWN_POSTS, AccountWithPickedPosts, post_metadata
from embedguard.store import Embed


def _provider(name: str) -> AccountWithPickedPosts:
    provider = default_registry().get(name)
    assert isinstance(provider, AccountWithPickedPosts)
    return provider


def _embed(provider: str, item_id: str, **fields: Any) -> Embed:
    return Embed(key=f"{provider}:{item_id}", provider=provider, item_id=item_id, **fields)


# (provider, account's item id, a post's item id for an id, a post of another account)
ACCOUNTS = {
    "twitter": ("mswirtschaft", "mswirtschaft/status/{}", "andere/status/{}"),
    "mastodon": ("social.example/@wirtschaft", "social.example/{}", "social.example/{}"),
}
AUTHORS = {
    "twitter": ("", ""),
    "mastodon": ("https://social.example/@wirtschaft", "https://social.example/@andere"),
}


@pytest.mark.parametrize("name", sorted(ACCOUNTS))
def test_the_newest_enabled_posts_with_text_of_that_account_only(name: str) -> None:
    provider = _provider(name)
    account_id, post_id, foreign_id = ACCOUNTS[name]
    own_url, foreign_url = AUTHORS[name]
    account = _embed(name, account_id, author_url=own_url)

    def post(number: int, **fields: Any) -> Embed:
        fields.setdefault("content", f"<p>Beitrag {number}</p>")
        return _embed(name, post_id.format(number), author_url=own_url, **fields)

    siblings = [
        account,
        *(post(n) for n in (3, 100, 7, 20, 9, 11)),
        post(500, enabled=False),
        post(400, content=""),
        _embed(name, foreign_id.format(300), author_url=foreign_url, content="<p>fremd</p>"),
    ]
    picked = provider.picked_posts(account, siblings)
    assert [p.item_id for p in picked] == [post_id.format(n) for n in (100, 20, 11, 9, 7)]
    assert len(picked) == SHOWN_POSTS
    context = provider.placeholder_context(account, "de", siblings)
    assert [p["path"] for p in context["posts"]] == [f"/{name}/{p.item_id}" for p in picked]
    assert str(context["posts"][0]["content"]) == "<p>Beitrag 100</p>"
    # A post's own placeholder lists no others.
    assert provider.placeholder_context(picked[0], "de", siblings)["posts"] == []


def test_a_post_is_titled_by_its_text() -> None:
    content = "<p>Tag der Ausbildung am Samstag</p><p>Mehr dazu bald.</p>"
    found = post_metadata(
        content,
        author_name=" Wirtschaft\x00 ",
        author="@wirtschaft",
        author_url="https://social.example/@wirtschaft",
        no_text="no text",
    )
    assert (found.title, found.author, found.content) == (
        "Tag der Ausbildung am Samstag",
        "Wirtschaft",
        content,
    )
    untrusted = post_metadata(content, author_name=7, author="@w", author_url="", no_text="x")
    assert untrusted.author == "@w"
    with pytest.raises(ProviderError, match="no text"):
        post_metadata("<p> </p>", author_name="W", author="@w", author_url="", no_text="no text")
