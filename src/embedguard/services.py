"""Wiring: the objects one running service shares, built once from Settings.

Nothing here decides anything; the rules live in the modules these objects come from.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .allowlist import Allowlist
from .assets import Assets
from .consent import ConsentCodec
from .i18n import load_translations
from .live_settings import LiveSettings
from .metrics import CountingUpstreamClient, CountingUsage, Metrics
from .pagecache import PageCache
from .posters import PosterStore
from .providers import Registry, default_registry
from .resources import resource_dir
from .security import frame_parents
from .settings import Settings
from .signing import Signer
from .store import Store
from .templating import Templates
from .upstream import UpstreamClient
from .usage import UsageCounter


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
    live: LiveSettings
    allowlist: Allowlist
    pages: PageCache
    metrics: Metrics
    # Seconds since the epoch; tests replace it to expire sessions and throttles without sleeping.
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    def build(cls, settings: Settings, registry: Registry | None = None) -> Services:
        registry = registry or default_registry()
        store = Store(settings.database_path)
        metrics = Metrics()
        pages = PageCache()
        live = LiveSettings(settings, store, pages)
        assets = Assets(resource_dir("static"))
        templates = Templates(
            resource_dir("templates"),
            load_translations(),
            {"static_url": assets.url, "providers": registry},
        )
        # Pages show the stored privacy facts and the live consent lifetime; embed pages
        # tell frame.js which parents may learn their height.
        templates.add_globals(
            privacy_info=live.privacy_info,
            live_consent_days=live.consent_days,
            frame_parents=lambda: frame_parents(live.frame_ancestors()),
        )
        return cls(
            settings=settings,
            store=store,
            registry=registry,
            posters=PosterStore(settings.poster_dir),
            upstream=CountingUpstreamClient(
                metrics,
                registry.upstream_hosts(),
                settings.upstream_map,
                proxy=settings.outbound_proxy,
            ),
            templates=templates,
            assets=assets,
            signer=Signer(settings.secret_keys),
            usage=CountingUsage(metrics, store),
            live=live,
            allowlist=Allowlist(store, pages),
            pages=pages,
            metrics=metrics,
        )

    async def aclose(self) -> None:
        self.usage.flush()
        await self.upstream.aclose()
        self.store.close()

    def consent_codec(self) -> ConsentCodec:
        return ConsentCodec(
            self.signer,
            lifetime_days=self.live.consent_days(),
            known_providers=frozenset(self.registry.names()),
        )
