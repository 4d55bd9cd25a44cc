"""The rule for every provider: a loaded page whose CSP admits the provider's script runs
that script only in a sandboxed document of its own, never in embedguard's origin."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from embedguard.providers.base import LoadedView
from embedguard.providers.twitter import TwitterProvider
from embedguard.store import Embed

from .fake_upstream import X_HANDLE

PAGE = f"/twitter/{X_HANDLE}"
SAME_ORIGIN = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}


def load_once(client: TestClient) -> Any:
    data = {"provider": "twitter", "scope": "once", "next": PAGE}
    return client.post("/consent", data=data, headers=SAME_ORIGIN)


def test_the_script_runs_only_in_an_opaque_origin_frame(
    client: TestClient, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed(f"twitter:{X_HANDLE}")
    page = load_once(client).text
    frames = re.findall(r"<iframe[^>]*>", page)
    assert len(frames) == 1
    sandbox = re.search(r'sandbox="([^"]*)"', frames[0])
    assert sandbox is not None
    assert set(sandbox.group(1).split()) == {
        "allow-scripts",
        "allow-popups",
        "allow-popups-to-escape-sandbox",
    }
    outside = re.sub(r'srcdoc="[^"]*"', "", page)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', outside)
    assert scripts and all(src.startswith("/static/") for src in scripts), scripts
    srcdoc = re.search(r'srcdoc="([^"]*)"', frames[0])
    assert srcdoc is not None
    assert "https://platform.x.com/widgets.js" in html.unescape(srcdoc.group(1))


def test_a_provider_script_outside_the_sandbox_is_refused(
    client: TestClient, stored_embed: Callable[..., Embed], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored_embed(f"twitter:{X_HANDLE}")

    def unsandboxed(self: TwitterProvider, embed: Embed, query: Any, lang: str) -> LoadedView:
        return LoadedView("providers/twitter_widget.html", {"embed": embed})

    monkeypatch.setattr(TwitterProvider, "loaded_view", unsandboxed)
    with pytest.raises(RuntimeError, match="sandboxed"):
        load_once(client)


@pytest.mark.parametrize("path", ["/admin", "/admin/", "/admin/login", "/admin/texts", "/admin/x"])
def test_every_admin_response_severs_its_opener(client: TestClient, path: str) -> None:
    assert client.get(path).headers["cross-origin-opener-policy"] == "same-origin"


def test_visitor_pages_keep_their_opener(client: TestClient) -> None:
    # Loaded embeds open /consent and /privacy in new windows; nothing to isolate there.
    assert "cross-origin-opener-policy" not in client.get("/privacy").headers
