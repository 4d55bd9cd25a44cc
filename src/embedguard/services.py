"""The objects one running service shares: built once from Settings, handed to views."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import privacy_info
from .assets import Assets
from .consent import ConsentCodec
from .i18n import load_translations
from .pagecache import PageCache
from .posters import PosterStore
from .privacy_info import DEFAULT_PRIVACY_INFO, PrivacyInfo
from .providers import EmbedRef, Provider, Registry, default_registry
from .resources import resource_dir
from .security import frame_parents
from .settings import Settings, SettingsError, parse_frame_ancestors
from .signing import Signer
from .store import Embed, Store
from .templating import Templates
from .upstream import UpstreamClient
from .usage import UsageCounter

DEFAULT_POLICY_VERSION = 1


@dataclass
class Services:
    settings: Settings
    store: Store
    registry: Registry
    posters: PosterStore
    upstream: UpstreamClient
    templates: Templates
    assets: Assets
    signer: Signer
    usage: UsageCounter
    pages: PageCache = field(default_factory=PageCache)
    # Seconds since the epoch; tests replace it to expire sessions and throttles without sleeping.
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    def build(cls, settings: Settings, registry: Registry | None = None) -> Services:
        registry = registry or default_registry()
        store = Store(settings.database_path)
        assets = Assets(resource_dir("static"))
        templates = Templates(
            resource_dir("templates"),
            load_translations(),
            {"static_url": assets.url, "providers": registry},
        )
        services = cls(
            settings=settings,
            store=store,
            registry=registry,
            posters=PosterStore(settings.poster_dir),
            upstream=UpstreamClient(registry.upstream_hosts(), settings.upstream_map),
            templates=templates,
            assets=assets,
            signer=Signer(settings.secret_keys),
            usage=UsageCounter(store),
        )
        # Pages show the stored privacy facts and the live consent lifetime; embed pages
        # tell frame.js which parents may learn their height.
        services.templates.add_globals(
            privacy_info=services.privacy_info,
            live_consent_days=services.consent_days,
            frame_parents=lambda: frame_parents(services.frame_ancestors()),
        )
        return services

    async def aclose(self) -> None:
        self.usage.flush()
        await self.upstream.aclose()
        self.store.close()

    # Settings an admin may change at run time override the environment's defaults.

    def policy_version(self) -> int:
        value = self._live("policy_version", DEFAULT_POLICY_VERSION)
        return value if isinstance(value, int) else DEFAULT_POLICY_VERSION

    def consent_days(self) -> int:
        value = self._live("consent_days", self.settings.consent_days)
        return value if isinstance(value, int) and value > 0 else self.settings.consent_days

    def frame_ancestors(self) -> tuple[str, ...]:
        value = self._live("frame_ancestors", None)
        if isinstance(value, str):
            try:
                return parse_frame_ancestors(value)
            except SettingsError:
                pass
        return self.settings.frame_ancestors

    def embed(self, key: str) -> Embed | None:
        """An allowed embed, from memory until the store changes (the placeholder's hot path)."""
        return self.pages.memo(
            self.store.generation(), ("embed", key), lambda: self.store.get_embed(key)
        )

    def shown_embed(
        self, provider: Provider, item_id: str, query: Mapping[str, str]
    ) -> Embed | None:
        """The embed a page may show: allowed, enabled, its parent (a post's account)
        enabled too, and the page's parameters fitting it (a Vimeo hash). Else None."""
        embed = self.embed(f"{provider.name}:{item_id}")
        if embed is None or not embed.enabled:
            return None
        parent_key = provider.parent_key(EmbedRef(provider.name, item_id))
        parent = self.embed(parent_key) if parent_key else None
        if parent_key and (parent is None or not parent.enabled):
            return None
        return embed if provider.accepts_query(embed, query) else None

    def consent_codec(self) -> ConsentCodec:
        return ConsentCodec(
            self.signer,
            lifetime_days=self.consent_days(),
            known_providers=frozenset(self.registry.names()),
        )

    def privacy_info(self) -> PrivacyInfo:
        """The stored privacy facts (or the county's defaults), from memory."""
        return self._cached(  # type: ignore[no-any-return]
            ("privacy_info",), lambda: privacy_info.load(self.store), DEFAULT_PRIVACY_INFO
        )

    def _live(self, name: str, default: Any) -> Any:
        return self._cached(
            ("setting", name), lambda: self.store.get_setting(name, default), default
        )

    def _cached(self, key: tuple[str, ...], load: Callable[[], Any], fallback: Any) -> Any:
        # Broken storage must not take pages or security headers down with it: /healthz
        # reports it, and pages still get the configured defaults.
        try:
            return self.pages.memo(self.store.generation(), key, load)
        except sqlite3.Error:
            return fallback
