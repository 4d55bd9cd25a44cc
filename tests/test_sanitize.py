"""Post HTML from upstream: only text, paragraphs, line breaks and plain links survive."""

from __future__ import annotations

import pytest

from embedguard.sanitize import MAX_INPUT_CHARS, clean_post_html, post_text

HOSTS = frozenset({"t.co", "x.com"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('<p lang="de" dir="ltr">Hallo<br>Welt</p>', '<p lang="de" dir="ltr">Hallo<br>Welt</p>'),
        ('<p lang="de onmouseover=x" dir="sideways">Hi</p>', "<p>Hi</p>"),
        ('<p class="x" style="color:red" id="y">Hi</p>', "<p>Hi</p>"),
        ("<b>fett</b> <em>kursiv</em>", "fett kursiv"),
        ("<script>alert(1)</script>ok", "ok"),
        ("<style>p{}</style><svg><circle/></svg><iframe src=x></iframe>ok", "ok"),
        ("<!-- note -->ok", "ok"),
        (
            '<a href="https://x.com/a/status/1?ref_src=twsrc&t=1#frag">x</a>',
            '<a href="https://x.com/a/status/1" target="_blank" '
            'rel="noopener noreferrer nofollow">x</a>',
        ),
        ('<img src="https://t.co/x.gif" onerror="alert(1)">', ""),
        ("&lt;script&gt;", "&lt;script&gt;"),
    ],
)
def test_cleaning(raw: str, expected: str) -> None:
    assert clean_post_html(raw, link_hosts=HOSTS) == expected


@pytest.mark.parametrize(
    "href",
    [
        "https://evil.example/",
        "javascript:alert(1)",
        "http://t.co/abc",
        "https://user@t.co/abc",
        "https://t.co:8443/abc",
        "https://t.co/a b",
        "https://[::1/",
        "/relative",
    ],
)
def test_links_elsewhere_lose_their_target(href: str) -> None:
    cleaned = clean_post_html(f'<a href="{href}" onclick="y">x</a>', link_hosts=HOSTS)
    assert "href" not in cleaned
    assert "onclick" not in cleaned
    assert cleaned.endswith(">x</a>")


@pytest.mark.parametrize("value", [None, 5, b"<p>x</p>", ["<p>"]])
def test_non_strings_are_empty(value: object) -> None:
    assert clean_post_html(value, link_hosts=HOSTS) == ""


def test_cleaning_is_idempotent() -> None:
    raw = (
        '<blockquote><p lang="de">A &amp; B <a href="https://t.co/x">t.co/x</a></p>'
        '&mdash; Name <a href="https://x.com/n/status/1?s=2">1. Mai</a></blockquote>'
    )
    once = clean_post_html(raw, link_hosts=HOSTS)
    assert clean_post_html(once, link_hosts=HOSTS) == once


@pytest.mark.parametrize(
    "raw",
    [
        '<a href="https://evil.example/x">dropped href</a>',
        '<a rel="x" target="_self">no href</a> and <a href="https://t.co/a">kept</a>',
        '<p><a href="javascript:alert(1)">js</a><br><a href="https://t.co/a" rel="me">t</a></p>',
        "<a><a>nested</a></a>",
    ],
)
def test_cleaning_twice_changes_nothing(raw: str) -> None:
    once = clean_post_html(raw, link_hosts=HOSTS)
    assert clean_post_html(once, link_hosts=HOSTS) == once


def test_input_is_bounded() -> None:
    cleaned = clean_post_html("<p>" + "a" * (MAX_INPUT_CHARS * 2) + "</p>", link_hosts=HOSTS)
    assert len(cleaned) <= MAX_INPUT_CHARS + len("<p></p>")


def test_post_text_takes_the_first_paragraph_as_plain_text() -> None:
    html = '<p lang="de">Tag der <b>Ausbildung</b> &amp; mehr</p>&mdash; Name <a href="#">Mai</a>'
    assert post_text(html, 100) == "Tag der Ausbildung & mehr"
    assert post_text(html, 10) == "Tag der A…"
    assert post_text("<script>x</script>", 100) == ""
