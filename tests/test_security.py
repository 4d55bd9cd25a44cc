"""CSP source matching for the cross-site rule, and headers on every kind of response."""

from __future__ import annotations

import pytest

from embedguard.security import build_csp, origin_matches_source


@pytest.mark.parametrize(
    ("origin", "source", "expected"),
    [
        ("https://www.example.de", "https://www.example.de", True),
        ("https://www.example.de", "https://www.example.de/", True),
        ("https://WWW.example.de", "https://www.example.de", True),
        ("http://www.example.de", "https://www.example.de", False),
        ("https://www.example.de:8443", "https://www.example.de", False),
        ("https://www.example.de:443", "https://www.example.de", True),
        ("https://a.example.de", "https://*.example.de", True),
        ("https://a.b.example.de", "https://*.example.de", True),
        ("https://example.de", "https://*.example.de", False),
        ("https://evilexample.de", "https://*.example.de", False),
        ("https://example.de", "example.de", True),
        ("http://example.de", "example.de", True),
        ("https://example.de.evil.com", "example.de", False),
        ("https://example.de", "'self'", False),
        ("null", "https://example.de", False),
        ("https://example.de/path", "https://example.de", False),
    ],
)
def test_origin_matches_source(origin: str, source: str, expected: bool) -> None:
    assert origin_matches_source(origin, source, "http") is expected


def test_scheme_less_source_follows_the_page_scheme() -> None:
    assert not origin_matches_source("http://example.de", "example.de", "https")
    assert origin_matches_source("https://example.de", "example.de", "https")


def test_build_csp_adds_sources_once() -> None:
    policy = build_csp(
        {"frame-src": ("https://a.de", "https://a.de"), "img-src": ("https://b.de",)}
    )
    assert "frame-src https://a.de;" in policy + ";"
    assert "img-src 'self' https://b.de" in policy
    assert policy.startswith("default-src 'none'")
