"""Settings an admin may change at run time; they override the environment's defaults.

Read from the store through the page cache, so a page asks the database only after a write.
Broken storage must not take pages or security headers down with it: /healthz reports
it, and pages still get the configured defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import privacy_info
from .database import StorageError
from .pagecache import PageCache
from .privacy_info import DEFAULT_PRIVACY_INFO, PrivacyInfo
from .settings import Settings, SettingsError, parse_frame_ancestors
from .store import Store

DEFAULT_POLICY_VERSION = 1


class LiveSettings:
    def __init__(self, settings: Settings, store: Store, cache: PageCache) -> None:
        self._settings = settings
        self._store = store
        self._cache = cache

    def policy_version(self) -> int:
        value = self._stored("policy_version", DEFAULT_POLICY_VERSION)
        return value if isinstance(value, int) else DEFAULT_POLICY_VERSION

    def consent_days(self) -> int:
        value = self._stored("consent_days", self._settings.consent_days)
        return value if isinstance(value, int) and value > 0 else self._settings.consent_days

    def frame_ancestors(self) -> tuple[str, ...]:
        value = self._stored("frame_ancestors", None)
        if isinstance(value, str):
            try:
                return parse_frame_ancestors(value)
            except SettingsError:
                pass
        return self._settings.frame_ancestors

    def privacy_info(self) -> PrivacyInfo:
        """The stored privacy facts (or the county's defaults)."""
        return self._cached(  # type: ignore[no-any-return]
            ("privacy_info",), lambda: privacy_info.load(self._store), DEFAULT_PRIVACY_INFO
        )

    def _stored(self, name: str, default: Any) -> Any:
        return self._cached(
            ("setting", name), lambda: self._store.get_setting(name, default), default
        )

    def _cached(self, key: tuple[str, ...], load: Callable[[], Any], fallback: Any) -> Any:
        try:
            return self._cache.memo(self._store.generation(), key, load)
        except StorageError:
            return fallback
