"""Stylesheets and scripts without comments and layout whitespace, as served.

The placeholder's HTML, CSS and script must stay within 4 KB compressed (it is what every
visitor downloads before deciding; tests/test_notice_content.py measures it); the source
files keep their comments and layout.
"""

from __future__ import annotations

import re

import rjsmin  # type: ignore[import-untyped]

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_SPACE = re.compile(r"\s+")
# Only around these: a space before ":" may be a descendant combinator (".a :is(.b)").
_PUNCTUATION = re.compile(r"\s*([{};,])\s*")


def minify_css(text: str) -> str:
    """``text`` with comments removed and whitespace collapsed; strings are left alone as
    long as they hold no comment markers, braces, semicolons or commas (ours do not)."""
    text = _COMMENT.sub("", text)
    text = _SPACE.sub(" ", text)
    return _PUNCTUATION.sub(r"\1", text).strip()


def minify_js(text: str) -> str:
    """``text`` without comments and needless whitespace; "/*!" comments stay (the marker
    loader_script.py fills in)."""
    minified: str = rjsmin.jsmin(text, keep_bang_comments=True)
    return minified
