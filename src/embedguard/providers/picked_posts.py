"""Providers of accounts and the posts an admin picked from them (X, Mastodon).

An account's placeholder cannot show the provider's own feed before consent, so it lists
the account's allowed posts from embedguard's cache instead: their sanitized text, newest
first, each with a link to the post's own page. A post is titled by its own text.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from markupsafe import Markup

from ..sanitize import post_text
from ..store import Embed
from ..text import clean_text
from .base import Metadata, Provider, ProviderError, canonical_digits

# An account's placeholder lists at most this many posts.
SHOWN_POSTS = 5
_TITLE_LENGTH = 100


class AccountWithPickedPosts(Provider):
    # The longest post id the provider's ids can have (canonical_digits).
    post_id_length: ClassVar[int] = 20
    # No picture stands in for the posts: their text is the preview.
    preview_style = "text"

    @abstractmethod
    def post_id(self, item_id: str) -> str | None:
        """The post's id for a post's item id; None for an account."""

    @abstractmethod
    def is_post_of(self, post: Embed, account: Embed) -> bool:
        """Whether the stored post belongs to the stored account."""

    @abstractmethod
    def post_content(self, embed: Embed) -> Markup:
        """The stored post text as safe HTML (cleaned again on the way out)."""

    @abstractmethod
    def item_context(self, embed: Embed) -> dict[str, Any]:
        """What the placeholder and the loaded page both show of an account or a post."""

    def placeholder_context(
        self, embed: Embed, lang: str, siblings: Sequence[Embed] = ()
    ) -> dict[str, Any]:
        posts = [] if self.post_id(embed.item_id) else self.picked_posts(embed, siblings)
        return {
            **self.item_context(embed),
            "posts": [
                {
                    "embed": post,
                    "content": self.post_content(post),
                    "path": self.embed_path(post.item_id),
                }
                for post in posts
            ],
        }

    def picked_posts(self, account: Embed, siblings: Sequence[Embed]) -> list[Embed]:
        """The account's enabled posts with text, newest (highest id) first."""
        own: list[tuple[int, Embed]] = []
        for embed in siblings:
            post_id = canonical_digits(
                self.post_id(embed.item_id) or "", max_length=self.post_id_length
            )
            if post_id and embed.enabled and embed.content and self.is_post_of(embed, account):
                own.append((int(post_id), embed))
        own.sort(key=lambda numbered: numbered[0], reverse=True)
        return [embed for _, embed in own[:SHOWN_POSTS]]


def post_metadata(
    content: str, *, author_name: object, author: str, author_url: str, no_text: str
) -> Metadata:
    """A post's metadata from its sanitized ``content``: its text is its title, the
    provider's ``author_name`` (untrusted) its author, else ``author``; ProviderError
    with ``no_text`` when the post has no text."""
    text = post_text(content, _TITLE_LENGTH)
    if not text:
        raise ProviderError(no_text)
    return Metadata(
        title=text,
        author=clean_text(author_name, 200) or author,
        author_url=author_url,
        width=550,
        height=600,
        content=content,
    )
