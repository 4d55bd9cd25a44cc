"""Jinja2 templates with gettext, one environment per language."""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from starlette.background import BackgroundTask
from starlette.responses import HTMLResponse

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

    def gettext(self, lang: str) -> Callable[[str], str]:
        translate: Callable[[str], str] = self._environments[lang].globals["gettext"]  # type: ignore[assignment]
        return translate

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
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(translation, newstyle=True)  # type: ignore[attr-defined]
    environment.globals.update(globals_)
    environment.filters["duration"] = format_duration
    environment.globals["ratio_class"] = ratio_class
    return environment
