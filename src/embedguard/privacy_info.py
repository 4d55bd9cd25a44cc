"""The editable facts behind ``/privacy`` and the placeholders' "without the platform" line.

Stored as one JSON value in the store's settings table (key :data:`SETTING_KEY`); until an
admin saves something, the county's published defaults apply. Every visitor-facing text is a
:class:`Text` with one string per language, so an edit form can show a German and an English
field side by side. Anything stored that does not parse counts as "not edited" (defaults),
never as an error on a visitor page.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from typing import Any, Protocol

from .i18n import DEFAULT_LANGUAGE, LANGUAGES

SETTING_KEY = "privacy_info"
MAX_TEXT = 2000
MAX_ITEMS = 20
_EMAIL = re.compile(r"[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}")
_PHONE = re.compile(r"\+?[0-9][0-9 ()/-]{2,30}")
_URL = re.compile(r"https?://[A-Za-z0-9.-]{1,190}(?::[0-9]{1,5})?(?:/[^\s<>\"']{0,500})?")


class SettingsStore(Protocol):
    def get_setting(self, name: str, default: Any = None) -> Any: ...

    def set_setting(self, name: str, value: Any, *, actor: str = "cli") -> None: ...

    def generation(self) -> Hashable: ...


class PrivacyInfoError(ValueError):
    """A value an admin entered does not fit; the message names the field."""


@dataclass(frozen=True)
class Text:
    """One visitor-facing text in each language; an empty English text falls back to German."""

    de: str = ""
    en: str = ""

    def get(self, lang: str) -> str:
        return self.language(lang)[0]

    def language(self, lang: str) -> tuple[str, str]:
        """The text for ``lang`` and the language it is actually in (for a ``lang`` attribute)."""
        value = getattr(self, lang, "") if lang in LANGUAGES else ""
        if value:
            return value, lang
        return self.de, DEFAULT_LANGUAGE

    def __bool__(self) -> bool:
        return bool(self.de or self.en)


@dataclass(frozen=True)
class Contact:
    """A responsible unit and how to reach it."""

    name: Text
    responsibility: Text = field(default_factory=Text)
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Channel:
    """A social-media channel the county runs; ``provider`` is a registry name if it has one."""

    name: str
    provider: str = ""
    url: str = ""
    purpose: Text = field(default_factory=Text)
    topics: Text = field(default_factory=Text)


@dataclass(frozen=True)
class Website:
    """An own website with the same information as the channels."""

    url: str
    description: Text = field(default_factory=Text)

    @property
    def label(self) -> str:
        return re.sub(r"^https?://(www\.)?", "", self.url).rstrip("/")


@dataclass(frozen=True)
class PrivacyInfo:
    controller: Text
    address: tuple[str, ...]
    contacts: tuple[Contact, ...]
    channels: tuple[Channel, ...]
    websites: tuple[Website, ...]
    data_protection_officer: Text = field(default_factory=Text)
    supervisory_authority: Text = field(default_factory=Text)
    # An optional extra paragraph an admin may put at the top of /privacy.
    introduction: Text = field(default_factory=Text)
    last_review: str = ""

    def review_date(self) -> date | None:
        try:
            return date.fromisoformat(self.last_review)
        except ValueError:
            return None


DEFAULT_PRIVACY_INFO = PrivacyInfo(
    controller=Text(
        "Landkreis Mittelsachsen", "Landkreis Mittelsachsen (district of Central Saxony)"
    ),
    address=("Landratsamt Mittelsachsen", "Frauensteiner Straße 43", "09599 Freiberg"),
    contacts=(
        Contact(
            name=Text(
                "Referat Wirtschaftsförderung und Kreisentwicklung",
                "Economic Development and District Development Unit",
            ),
            responsibility=Text(
                "verantwortlich für die Inhalte",
                "responsible for the content",
            ),
            email="regionalmanagement@landkreis-mittelsachsen.de",
            phone="03731 799 1402",
        ),
        Contact(
            name=Text("Pressestelle", "Press office"),
            responsibility=Text(
                "verantwortlich für die Social-Media-Auftritte",
                "responsible for the social media channels",
            ),
            email="presse@landkreis-mittelsachsen.de",
            phone="03731 799 3305",
        ),
    ),
    channels=(
        Channel(
            name="Facebook",
            provider="facebook",
            url="https://www.facebook.com/wirtschaft.in.mittelsachsen",
            purpose=Text(
                "Bürgerinnen, Bürger und Unternehmen über die Region informieren",
                "Informing residents and businesses about the region",
            ),
            topics=Text(
                "Informationen zur regionalen Wirtschaft, Veranstaltungen und Projekten",
                "Information on the regional economy, events and projects",
            ),
        ),
        Channel(
            name="X",
            provider="twitter",
            purpose=Text(
                "Kurz und aktuell informieren",
                "Short, up-to-date information",
            ),
            topics=Text(
                "Aktuelle Meldungen, Veranstaltungen, Statistiken und Auszeichnungen",
                "Current news, events, statistics and awards",
            ),
        ),
        Channel(
            name="Vimeo",
            provider="vimeo",
            purpose=Text(
                "Die Region und ihre Unternehmen in Videos zeigen",
                "Showing the region and its businesses in videos",
            ),
            topics=Text(
                "Videos über Unternehmen, Fachkräfte, Nachhaltigkeit, die Region als Ort zum "
                "Leben und Arbeiten sowie Projektdokumentationen",
                "Videos on companies, skilled workers, sustainability, the region as a place "
                "to live and work, and project documentation",
            ),
        ),
    ),
    websites=(
        Website(
            "https://www.wirtschaft-in-mittelsachsen.de",
            Text("Wirtschaft in Mittelsachsen", "Business in Central Saxony"),
        ),
        Website(
            "https://www.landkreis-mittelsachsen.de",
            Text("Landkreis Mittelsachsen", "District of Central Saxony"),
        ),
    ),
    data_protection_officer=Text(
        "Behördlicher Datenschutzbeauftragter, Landratsamt Mittelsachsen, "
        "Frauensteiner Straße 43, 09599 Freiberg",
        "Data protection officer, Landratsamt Mittelsachsen, "
        "Frauensteiner Straße 43, 09599 Freiberg, Germany",
    ),
    supervisory_authority=Text(
        "Sächsische Datenschutz- und Transparenzbeauftragte, Devrientstraße 5, 01067 Dresden",
        "Saxon Data Protection and Transparency Commissioner, Devrientstraße 5, "
        "01067 Dresden, Germany",
    ),
    last_review="2026-11-27",
)


def load(store: SettingsStore) -> PrivacyInfo:
    """The stored privacy information, or the defaults if nothing (valid) is stored."""
    stored = store.get_setting(SETTING_KEY)
    if stored is None:
        return DEFAULT_PRIVACY_INFO
    try:
        return from_dict(stored)
    except PrivacyInfoError:
        return DEFAULT_PRIVACY_INFO


def save(store: SettingsStore, info: PrivacyInfo, actor: str) -> None:
    """Check and store ``info`` (the store audits the change under ``actor``)."""
    store.set_setting(SETTING_KEY, to_dict(from_dict(to_dict(info))), actor=actor)


def reset(store: SettingsStore, actor: str) -> None:
    save(store, DEFAULT_PRIVACY_INFO, actor)


def with_text(info: PrivacyInfo, name: str, lang: str, value: str) -> PrivacyInfo:
    """``info`` with one language of a top-level :class:`Text` field replaced."""
    current = getattr(info, name, None)
    if not isinstance(current, Text) or lang not in LANGUAGES:
        raise PrivacyInfoError(f"{name}: not a text field")
    changes: dict[str, Any] = {name: replace(current, **{lang: value})}
    return replace(info, **changes)


# -- (de)serialisation with checks -------------------------------------------------------


def to_dict(info: PrivacyInfo) -> dict[str, Any]:
    return asdict(info)


def from_dict(data: Any) -> PrivacyInfo:
    """A checked :class:`PrivacyInfo`; :class:`PrivacyInfoError` names the first bad field."""
    raw = _mapping(data, "privacy info")
    last_review = _string(raw.get("last_review", ""), "last_review", 10)
    if last_review:
        try:
            date.fromisoformat(last_review)
        except ValueError:
            raise PrivacyInfoError("last_review: not a date (YYYY-MM-DD)") from None
    return PrivacyInfo(
        controller=_text(raw.get("controller", {}), "controller", required=True),
        address=tuple(
            _string(line, "address", 200) for line in _list(raw.get("address", []), "address")
        ),
        contacts=tuple(
            _contact(item, f"contacts[{i}]")
            for i, item in enumerate(_list(raw.get("contacts", []), "contacts"))
        ),
        channels=tuple(
            _channel(item, f"channels[{i}]")
            for i, item in enumerate(_list(raw.get("channels", []), "channels"))
        ),
        websites=tuple(
            _website(item, f"websites[{i}]")
            for i, item in enumerate(_list(raw.get("websites", []), "websites"))
        ),
        data_protection_officer=_text(
            raw.get("data_protection_officer", {}), "data_protection_officer"
        ),
        supervisory_authority=_text(raw.get("supervisory_authority", {}), "supervisory_authority"),
        introduction=_text(raw.get("introduction", {}), "introduction"),
        last_review=last_review,
    )


def _contact(data: Any, where: str) -> Contact:
    raw = _mapping(data, where)
    return Contact(
        name=_text(raw.get("name", {}), f"{where}.name", required=True),
        responsibility=_text(raw.get("responsibility", {}), f"{where}.responsibility"),
        email=_checked(raw.get("email", ""), f"{where}.email", _EMAIL),
        phone=_checked(raw.get("phone", ""), f"{where}.phone", _PHONE),
    )


def _channel(data: Any, where: str) -> Channel:
    raw = _mapping(data, where)
    name = _string(raw.get("name", ""), f"{where}.name", 100)
    if not name:
        raise PrivacyInfoError(f"{where}.name: required")
    return Channel(
        name=name,
        provider=_string(raw.get("provider", ""), f"{where}.provider", 40),
        url=_checked(raw.get("url", ""), f"{where}.url", _URL),
        purpose=_text(raw.get("purpose", {}), f"{where}.purpose"),
        topics=_text(raw.get("topics", {}), f"{where}.topics"),
    )


def _website(data: Any, where: str) -> Website:
    raw = _mapping(data, where)
    url = _checked(raw.get("url", ""), f"{where}.url", _URL)
    if not url:
        raise PrivacyInfoError(f"{where}.url: required")
    return Website(url=url, description=_text(raw.get("description", {}), f"{where}.description"))


def _text(data: Any, where: str, *, required: bool = False) -> Text:
    raw = _mapping(data, where)
    values = {f.name: _string(raw.get(f.name, ""), f"{where}.{f.name}") for f in fields(Text)}
    text = Text(**values)
    if required and not text.de:
        raise PrivacyInfoError(f"{where}.de: required")
    return text


def _mapping(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise PrivacyInfoError(f"{where}: expected an object")
    return data


def _list(data: Any, where: str) -> list[Any]:
    if not isinstance(data, list | tuple) or len(data) > MAX_ITEMS:
        raise PrivacyInfoError(f"{where}: expected a list of at most {MAX_ITEMS} items")
    return list(data)


def _string(value: Any, where: str, max_length: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise PrivacyInfoError(f"{where}: expected text of at most {max_length} characters")
    if any(ord(c) < 0x20 and c not in "\n\t" for c in value):
        raise PrivacyInfoError(f"{where}: contains control characters")
    return value.strip()


def _checked(value: Any, where: str, pattern: re.Pattern[str]) -> str:
    text = _string(value, where, 500)
    if text and not pattern.fullmatch(text):
        raise PrivacyInfoError(f"{where}: not a valid value")
    return text
