"""Untrusted post HTML from upstream, cut down to paragraphs, line breaks and plain links.

X's oEmbed answers with a blockquote of the post; before consent we show its text from our
own cache. Whatever the upstream sends, what survives is text, ``<p>`` (with a checked
``lang``/``dir``), ``<br>`` and ``<a>`` to a few known https hosts, without tracking queries.
Cleaning is idempotent, so pages clean stored content again when they render it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .lazy import lazy_module
from .text import clean_text

if TYPE_CHECKING:
    import nh3
else:
    nh3 = lazy_module("nh3")  # on the first post shown: a Vimeo-only worker never needs it

MAX_INPUT_CHARS = 50_000
_TAGS = {"p", "br", "a"}
# Dropped together with everything inside them, not just unwrapped to their text.
_DROP_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "svg",
    "math",
    "noscript",
    "template",
    "object",
    "embed",
    "textarea",
    "select",
    "title",
}
_LINK_REL = "noopener noreferrer nofollow"
_LANG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}", re.ASCII)
_DIRECTIONS = frozenset({"ltr", "rtl", "auto"})
_PATH = re.compile(r"[A-Za-z0-9/_.~%-]{0,500}", re.ASCII)
_PARAGRAPH = re.compile(r"<p[^>]*>(.*?)</p>", re.DOTALL)
# A link whose href was dropped, as nh3 writes it the first time (rel before target).
_DEAD_LINK = re.compile(r'<a (rel="[^"<>]*") (target="[^"<>]*")>')


def clean_post_html(value: Any, *, link_hosts: Collection[str]) -> str:
    """Safe HTML for a page; '' for anything that is not a string."""
    if not isinstance(value, str):
        return ""

    def keep(tag: str, attribute: str, attribute_value: str) -> str | None:
        if tag == "a" and attribute == "href":
            return _plain_link(attribute_value, link_hosts)
        if tag == "p" and attribute == "lang":
            return attribute_value if _LANG.fullmatch(attribute_value) else None
        if tag == "p" and attribute == "dir":
            return attribute_value if attribute_value in _DIRECTIONS else None
        # Only what we set ourselves reaches here (target, rel); everything else is None.
        return attribute_value if tag == "a" and attribute in ("target", "rel") else None

    cleaned: str = nh3.clean(
        value[:MAX_INPUT_CHARS],
        tags=_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes={"p": {"lang", "dir"}, "a": {"href"}},
        attribute_filter=keep,
        url_schemes={"https"},
        link_rel=_LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )
    # nh3 writes a link whose href it dropped as <a rel target>, but as <a target rel>
    # when it cleans that output again; one order keeps cleaning idempotent.
    return _DEAD_LINK.sub(r"<a \2 \1>", cleaned).strip()


def post_text(value: Any, max_length: int) -> str:
    """The plain text of the post's first paragraph (or of all of it), for titles."""
    cleaned = clean_post_html(value, link_hosts=())
    match = _PARAGRAPH.search(cleaned)
    fragment = match.group(1) if match else cleaned
    text = html.unescape(nh3.clean(fragment, tags=set()))
    text = clean_text(text, max_length + 1)
    if len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return text


def _plain_link(value: str, hosts: Collection[str]) -> str | None:
    """An https link to one of ``hosts``, rebuilt without query or fragment; else None."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.username or port is not None or host not in hosts:
        return None
    if not _PATH.fullmatch(parts.path):
        return None
    return f"https://{host}{parts.path}"
