"""Languages: German first, English complete, every visitor-facing string translated."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from starlette.testclient import TestClient

from embedguard.i18n import LOCALE_DIR, choose_language, load_translations
from embedguard.views.common import _ERROR_TITLES

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
GERMAN_PO = LOCALE_DIR / "de" / "LC_MESSAGES" / "messages.po"
# Same method map and options as babel.cfg, so `pybabel extract` and this test agree.
METHOD_MAP = [("src/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
READABLE_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "label"}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")
# Words that may stand in a template untranslated: names and the language switch,
# which is in its own language on purpose.
PROPER_NAMES = {
    "embedguard", "Vimeo", "Facebook", "Twitter", "X", "English", "Deutsch",
    "Wirtschaft", "in", "Mittelsachsen", "Demo", "USA",
}  # fmt: skip


def extracted_msgids() -> set[str]:
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, METHOD_MAP, OPTIONS, KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.add(msgid)
    return found


def german_catalog() -> dict[str, str]:
    with GERMAN_PO.open("rb") as source:
        catalog = read_po(source, locale="de")
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert fuzzy == [], f"fuzzy entries are not used at run time: {fuzzy}"
    return {str(m.id): str(m.string or "") for m in catalog if m.id}


def test_extraction_finds_the_templates_strings() -> None:
    """The check below is only worth something if extraction really reads the templates."""
    msgids = extracted_msgids()
    assert "Privacy information" in msgids
    assert "Load once" in msgids
    assert "Revoke all consents" in msgids


def test_every_visitor_facing_string_has_a_german_translation() -> None:
    german = german_catalog()
    wanted = extracted_msgids() | set(_ERROR_TITLES.values()) | {"Error"}
    missing = sorted(m for m in wanted if not german.get(m, "").strip())
    assert missing == [], "no German translation for:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    for msgid, msgstr in german_catalog().items():
        if msgstr:
            assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


class _TextCollector(HTMLParser):
    """Element text and human-readable attribute values, outside script and style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.texts.extend(v for k, v in attrs if k in READABLE_ATTRIBUTES and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.texts.append(data)


def _visible_literals(source: str) -> list[str]:
    """The template's literal visible text: every Jinja expression becomes a blank, text
    inside {% trans %} is dropped, and what remains is read as HTML."""
    environment = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    flattened: list[str] = []
    blocks: list[str] = []  # names of the open {% block %}s; *_class ones hold class names
    previous, in_trans = "", False
    for _lineno, token_type, value in environment.lex(source):
        if token_type == "name" and previous == "block":
            blocks.append(value)
        elif token_type == "name" and value == "endblock" and blocks:
            blocks.pop()
        elif token_type == "name" and value in ("trans", "endtrans"):
            in_trans = value == "trans"
        elif (
            token_type == "data"
            and not in_trans
            and not any(name.endswith("class") for name in blocks)
        ):
            flattened.append(value)
        elif token_type == "variable_begin":
            flattened.append(" ")
        if token_type != "whitespace":
            previous = value if token_type == "name" else ""
    collector = _TextCollector()
    collector.feed("".join(flattened))
    collector.close()
    return collector.texts


def test_templates_have_no_visible_text_outside_gettext() -> None:
    offenders = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for literal in _visible_literals(template.read_text(encoding="utf-8")):
            words = set(re.findall(r"[^\W\d_]{2,}", literal)) - PROPER_NAMES
            if words:
                offenders.append(f"{template.relative_to(ROOT)}: {literal.strip()!r}")
    assert offenders == [], "untranslated template text:\n" + "\n".join(offenders)


def test_the_literal_checker_catches_plain_text() -> None:
    found = list(_visible_literals('<p>{{ _("ok") }} Hallo</p><img alt="Bild" src="x">'))
    assert any("Hallo" in text for text in found)
    assert "Bild" in found


def test_catalogs_compile_and_translate() -> None:
    translations = load_translations()
    assert translations["de"].gettext("Privacy information") == "Datenschutzhinweise"
    assert translations["en"].gettext("Privacy information") == "Privacy information"


@pytest.mark.parametrize(
    ("requested", "header", "expected"),
    [
        (None, None, "de"),
        ("en", None, "en"),
        ("de", "en", "de"),
        ("xx", "en", "de"),  # an unknown lang means German, not the header's choice
        ("", "en", "de"),
        ("EN", None, "de"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "fr-FR, en;q=0.5, de;q=0.8", "de"),
        (None, "fr, en;q=0.1", "en"),
        (None, "de;q=0, en;q=0", "de"),
        (None, "en;q=2", "de"),  # not a valid quality
        (None, "en" * 400, "de"),
        (None, "," * 5000 + "en", "de"),
        (None, "en;q=0.5;" + "x" * 600, "de"),
        (None, "\x00\xff<script>", "de"),
        (None, "*", "de"),
    ],
)
def test_choose_language(requested: str | None, header: str | None, expected: str) -> None:
    assert choose_language(requested, header) == expected


@pytest.mark.parametrize("path", ["/privacy", "/consent", "/no-such-page"])
@pytest.mark.parametrize(
    ("query", "header", "lang"),
    [
        ("", "", "de"),
        ("?lang=en", "", "en"),
        ("?lang=fr", "en", "de"),
        ("?lang=%00%3Cscript%3E", "", "de"),
        ("", "en-US,en;q=0.9", "en"),
        ("", "en;" + ";" * 3000, "de"),
        ("", "q=1, en;q=nan, de;q=inf", "de"),
    ],
)
def test_pages_pick_a_language_and_never_fail(
    client: TestClient, path: str, query: str, header: str, lang: str
) -> None:
    response = client.get(path + query, headers={"accept-language": header} if header else {})
    assert response.status_code in (200, 404)
    assert f'<html lang="{lang}">' in response.text
    other = "en" if lang == "de" else "de"
    assert f'lang="{other}" hreflang="{other}"' in response.text
