"""The admin's add form says in one line why a provider's URL cannot be embedded."""

# Fixtures come from test_admin_support; using them as arguments "redefines" the imports.
# ruff: noqa: F811

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from embedguard.services import Services

from .test_admin_support import (
    account,  # noqa: F401
    admin,  # noqa: F401
    clock,  # noqa: F401
    fast_hashing,  # noqa: F401
    token_for,
)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://www.facebook.com/video.php?v=10153231379946729", "a Facebook video"),
        ("https://twitter.com/web/status/1790000000000000001", "without its account"),
        ("https://www.youtube.com/@wirtschaftmittelsachsen", "not a video"),
    ],
)
def test_refusal_names_the_reason_and_stores_nothing(
    admin: TestClient, services: Services, upstream_requests: list[object], url: str, reason: str
) -> None:
    data = {"url": url, "step": "preview", "csrf_token": token_for(admin)}
    response = admin.post("/admin/embeds/add", data=data)
    assert response.status_code == 400
    assert "embedguard kann diese Adresse nicht zeigen" in response.text
    assert reason in response.text
    assert services.store.list_embeds() == []
    assert upstream_requests == []
