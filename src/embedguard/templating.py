"""Jinja2 templates with gettext, one environment per language."""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date as format_date_babel
from markupsafe import Markup, escape
from starlette.background import BackgroundTask
from starlette.responses import HTMLResponse

from .post_dates import localize_post_dates
from .privacy_info import Text
from .titles import readable_title

_RATIOS = {"16x9": 16 / 9, "4x3": 4 / 3, "1x1": 1.0, "9x16": 9 / 16, "21x9": 21 / 9}


def ratio_class(width: int, height: int) -> str:
    """The nearest of a few aspect-ratio classes (no inline styles under our CSP)."""
    ratio = width / height if width > 0 and height > 0 else 16 / 9
    name = min(_RATIOS, key=lambda r: abs(_RATIOS[r] - ratio))
    return f"ratio-{name}"


def format_duration(seconds: int | None) -> str:
    if not seconds:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_date(value: date | int | None, lang: str) -> str:
    """A long date in ``lang``; an int is a Unix timestamp (UTC)."""
    if value is None:
        return ""
    if isinstance(value, int):
        value = datetime.fromtimestamp(value, UTC).date()
    return format_date_babel(value, format="long", locale=lang)


def _localized(lang: str) -> Callable[[Text], Markup]:
    """A :class:`Text` in ``lang``; a German fallback on an English page gets ``lang="de"``."""

    def localized(text: Text) -> Markup:
        value, actual = text.language(lang)
        if actual == lang:
            return escape(value)
        return Markup('<span lang="{}">{}</span>').format(actual, value)

    return localized


def _by_language(lang: str) -> Callable[[object, str], Any]:
    """``recipient|in_language("data")``: the ``data_de`` or ``data_en`` attribute."""

    def in_language(obj: object, name: str) -> Any:
        return getattr(obj, f"{name}_{lang}")

    return in_language


class Templates:
    def __init__(
        self,
        directory: Path,
        translations: Mapping[str, gettext.NullTranslations],
        globals_: Mapping[str, Any],
    ) -> None:
        self._environments = {
            lang: _environment(directory, translation, {**globals_, "lang": lang})
            for lang, translation in translations.items()
        }

    def add_globals(self, **values: Any) -> None:
        """Globals known only once the services exist (live settings, stored texts)."""
        for environment in self._environments.values():
            environment.globals.update(values)

    def render(self, name: str, lang: str, context: Mapping[str, Any]) -> str:
        return self._environments[lang].get_template(name).render(context)

    def response(
        self,
        name: str,
        lang: str,
        context: Mapping[str, Any],
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> HTMLResponse:
        return HTMLResponse(
            self.render(name, lang, context),
            status_code=status_code,
            headers=headers,
            background=background,
        )


def _environment(
    directory: Path, translation: gettext.NullTranslations, globals_: Mapping[str, Any]
) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        # Templates ship with the package; checking their mtimes cost 4% of a page.
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(translation, newstyle=True)  # type: ignore[attr-defined]
    environment.globals.update(globals_)
    lang = str(globals_.get("lang", ""))
    environment.filters["duration"] = format_duration
    environment.filters["localized"] = _localized(lang)
    environment.filters["in_language"] = _by_language(lang)
    environment.filters["long_date"] = lambda value: format_date(value, lang)
    environment.filters["local_dates"] = lambda html: localize_post_dates(html, lang)
    environment.filters["readable_title"] = readable_title
    environment.globals["ratio_class"] = ratio_class
    environment.globals["other_language"] = "en" if lang == "de" else "de"
    return environment
