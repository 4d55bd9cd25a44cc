"""Every setting, declared once and read once from the environment.

Nothing else in the package reads ``os.environ``: the CLI builds a :class:`Settings`
and passes it down.
"""

from __future__ import annotations

import json
import re
import secrets
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True)
class Setting:
    env: str
    default: str | None
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "EMBEDGUARD_SECRET_KEYS",
        None,
        "comma-separated signing keys, the first signs (required outside --demo)",
    ),
    Setting("EMBEDGUARD_DATA_DIR", "./embedguard-data", "SQLite database and poster cache"),
    Setting("EMBEDGUARD_PUBLIC_URL", "", "base URL used in snippets (default: from the request)"),
    Setting(
        "EMBEDGUARD_FRAME_ANCESTORS",
        "'self'",
        "origins allowed to frame the embed pages, space-separated as in CSP",
    ),
    Setting("EMBEDGUARD_CONSENT_DAYS", "180", "lifetime of 'always' consent in days"),
    Setting(
        "EMBEDGUARD_UPSTREAM_MAP",
        "{}",
        "JSON object mapping a real upstream origin to a replacement origin (tests, mirrors)",
    ),
    Setting(
        "EMBEDGUARD_SECRET_KEYS_FILE",
        None,
        "file with one signing key per line, the first signs (instead of EMBEDGUARD_SECRET_KEYS)",
    ),
    Setting("EMBEDGUARD_OUTBOUND_PROXY", "", "http(s) proxy URL for every upstream fetch"),
    Setting("EMBEDGUARD_METRICS_TOKEN", "", "bearer token that may read /metrics from anywhere"),
    Setting(
        "EMBEDGUARD_METRICS_NETWORKS",
        "127.0.0.1/32 ::1/128",
        "networks (CIDR, space-separated) that may read /metrics without the token",
    ),
    Setting("EMBEDGUARD_MIN_FREE_MB", "64", "/healthz fails below this much free space"),
)

IPNetwork = IPv4Network | IPv6Network
DEFAULT_METRICS_NETWORKS: tuple[IPNetwork, ...] = (
    ip_network("127.0.0.1/32"),
    ip_network("::1/128"),
)
_MIN_KEY_LENGTH = 16
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
_ANCESTOR_KEYWORDS = {"'self'", "'none'"}
_ANCESTOR_SOURCE = re.compile(r"^(https?://)?(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")


@dataclass(frozen=True)
class Settings:
    secret_keys: tuple[str, ...]
    data_dir: Path
    public_url: str = ""
    frame_ancestors: tuple[str, ...] = ("'self'",)
    consent_days: int = 180
    upstream_map: Mapping[str, str] = field(default_factory=dict)
    demo: bool = False
    outbound_proxy: str = ""
    metrics_token: str = ""
    metrics_networks: tuple[IPNetwork, ...] = DEFAULT_METRICS_NETWORKS
    min_free_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, demo: bool = False) -> Settings:
        def read(name: str) -> str:
            spec = next(s for s in SETTINGS if s.env == name)
            value = environ.get(name, "").strip()
            return value if value else (spec.default or "")

        return cls(
            secret_keys=_signing_keys(read, demo),
            data_dir=Path(read("EMBEDGUARD_DATA_DIR")),
            public_url=_parse(read, "EMBEDGUARD_PUBLIC_URL", _public_url),
            frame_ancestors=_parse(read, "EMBEDGUARD_FRAME_ANCESTORS", parse_frame_ancestors),
            consent_days=_parse(read, "EMBEDGUARD_CONSENT_DAYS", _consent_days),
            upstream_map=_parse(read, "EMBEDGUARD_UPSTREAM_MAP", _upstream_map),
            demo=demo,
            outbound_proxy=_parse(read, "EMBEDGUARD_OUTBOUND_PROXY", _proxy_url),
            metrics_token=_parse(read, "EMBEDGUARD_METRICS_TOKEN", _metrics_token),
            metrics_networks=_parse(read, "EMBEDGUARD_METRICS_NETWORKS", _networks),
            min_free_bytes=_parse(read, "EMBEDGUARD_MIN_FREE_MB", _megabytes),
        )

    @property
    def database_path(self) -> Path:
        return self.data_dir / "embedguard.sqlite3"

    @property
    def poster_dir(self) -> Path:
        return self.data_dir / "posters"


def _parse(read: Callable[[str], str], name: str, convert: Callable[[str], Any]) -> Any:
    try:
        return convert(read(name))
    except SettingsError as error:
        raise SettingsError(f"{name}: {error}") from None


def _secret_keys(value: str, demo: bool) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in value.split(",") if k.strip())
    if not keys:
        if demo:
            return (secrets.token_urlsafe(32),)
        raise SettingsError(
            "required (or EMBEDGUARD_SECRET_KEYS_FILE); at least one key of 16 or more characters"
        )
    if any(len(k) < _MIN_KEY_LENGTH for k in keys):
        raise SettingsError(f"every key needs at least {_MIN_KEY_LENGTH} characters")
    return keys


def _signing_keys(read: Callable[[str], str], demo: bool) -> tuple[str, ...]:
    inline, path = read("EMBEDGUARD_SECRET_KEYS"), read("EMBEDGUARD_SECRET_KEYS_FILE")
    if inline and path:
        raise SettingsError(
            "EMBEDGUARD_SECRET_KEYS_FILE: set it or EMBEDGUARD_SECRET_KEYS, not both"
        )
    keys: tuple[str, ...]
    if path:
        keys = _parse(read, "EMBEDGUARD_SECRET_KEYS_FILE", lambda v: _secret_keys_file(v, demo))
    else:
        keys = _parse(read, "EMBEDGUARD_SECRET_KEYS", lambda v: _secret_keys(v, demo))
    return keys


def _secret_keys_file(value: str, demo: bool) -> tuple[str, ...]:
    path = Path(value)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as error:
        raise SettingsError(f"cannot read {value}: {getattr(error, 'strerror', error)}") from None
    if mode & stat.S_IROTH:
        raise SettingsError(f"{value} is readable by everyone; chmod o-r (0600 or 0640) it")
    lines = (line.strip() for line in text.splitlines())
    return _secret_keys(",".join(k for k in lines if k and not k.startswith("#")), demo)


def _public_url(value: str) -> str:
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise SettingsError(f"not an http(s) base URL: {value!r}")
    return value.rstrip("/")


def parse_frame_ancestors(value: str) -> tuple[str, ...]:
    """Validate a CSP frame-ancestors source list; reject anything that could inject."""
    sources = tuple(value.split())
    if not sources:
        raise SettingsError("empty; use 'self' or a list of origins")
    for source in sources:
        if source not in _ANCESTOR_KEYWORDS and not _ANCESTOR_SOURCE.match(source):
            raise SettingsError(f"not a CSP source: {source!r}")
    if "'none'" in sources and len(sources) > 1:
        raise SettingsError("'none' cannot be combined with other sources")
    return sources


def _consent_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise SettingsError(f"not a whole number: {value!r}") from None
    if not 1 <= days <= 730:
        raise SettingsError("must be between 1 and 730 days")
    return days


def _proxy_url(value: str) -> str:
    if not value:
        return ""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise SettingsError("not a valid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError("must be an http:// or https:// proxy URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SettingsError("must be a proxy origin without path or query")
    return value


def _metrics_token(value: str) -> str:
    if value and len(value) < _MIN_KEY_LENGTH:
        raise SettingsError(f"needs at least {_MIN_KEY_LENGTH} characters")
    return value


def _networks(value: str) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ip_network(n) for n in value.replace(",", " ").split())
    except ValueError as error:
        raise SettingsError(str(error)) from None


def _megabytes(value: str) -> int:
    try:
        megabytes = int(value)
    except ValueError:
        raise SettingsError(f"not a whole number: {value!r}") from None
    if megabytes < 0:
        raise SettingsError("must not be negative")
    return megabytes * 1024 * 1024


def _upstream_map(value: str) -> dict[str, str]:
    try:
        mapping = json.loads(value)
    except json.JSONDecodeError:
        raise SettingsError("not valid JSON") from None
    if not isinstance(mapping, dict):
        raise SettingsError("must be a JSON object of origin to origin")
    for real, replacement in mapping.items():
        if (
            not isinstance(replacement, str)
            or not _ORIGIN.match(real)
            or not _ORIGIN.match(replacement)
        ):
            raise SettingsError(f"entries must map origin to origin: {real!r}")
    return {str(k): str(v) for k, v in mapping.items()}
