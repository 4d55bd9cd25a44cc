"""Finding direct embeds in HTML: whatever makes a visitor's browser contact a platform
before the visitor agreed (player iframes, plugin iframes, widget markup and its script).

Markup is read with the standard library's HTML parser (line numbers from ``getpos()``),
never with regular expressions, so comments, attribute quoting and mixed case are handled
as a browser would. Every URL found goes through the registry's recognition, so a new
provider's iframes are found with no change here. What no URL reveals each provider names
in its ``embed_code``: its own widget markup (``class="fb-page"``, ``twitter-tweet``), the
scripts that turn it into an embed, and the frame hosts that count as direct even when
embedguard cannot show the item.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from .providers import EmbedRef, Provider, Registry

MAX_URL_LENGTH = 2048
# Widget elements open at once; beyond it the oldest is judged early. Real pages nest none,
# and the cap keeps a page of thousands of nested widget tags linear.
MAX_OPEN_MARKUP = 32
# Where markup names its item, in the order they are tried; inner links come after these.
_URL_ATTRIBUTES = ("data-href", "data-embed-url", "data-url", "cite", "href")


@dataclass(frozen=True)
class Finding:
    """One direct embed. ``ref`` is the item embedguard can show instead; None for an item
    it cannot show and for a platform's loader script."""

    source: str  # the file or page URL
    line: int
    provider: str
    kind: str  # "iframe", "markup" or "script"
    url: str  # the platform URL as found, made absolute
    ref: EmbedRef | None = None
    title: str = ""
    size: tuple[int, int] | None = None  # the iframe's own width and height

    @property
    def key(self) -> str:
        return self.ref.key if self.ref is not None else ""


def find_embeds(
    text: str, source: str, registry: Registry, *, base_url: str = "https://"
) -> list[Finding]:
    """Every direct embed in one HTML (or template) text, in document order.

    ``base_url`` resolves relative and protocol-relative URLs: the page's own URL when it
    was fetched; for a file only protocol-relative ones resolve (to https).
    """
    parser = _EmbedParser(source, registry, base_url)
    parser.feed(text)
    parser.close()
    return sorted(parser.findings, key=lambda finding: finding.line)


@dataclass
class _OpenMarkup:
    """A widget element whose end tag has not come yet; its inner links are collected."""

    provider: Provider  # whose widget markup it is
    tag: str
    line: int
    urls: list[str]
    links: list[str] = field(default_factory=list)
    depth: int = 1


class _EmbedParser(HTMLParser):
    def __init__(self, source: str, registry: Registry, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[Finding] = []
        self._source = source
        self._registry = registry
        self._providers = tuple(registry)
        self._base = base_url
        self._open: list[_OpenMarkup] = []
        # Hosts of the markup per platform, for a script served next to it (an instance's).
        self._markup_hosts: dict[str, set[str]] = {}
        self._scripts: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = [(name, value) for name, value in attrs if value]
        attributes = dict(values)
        line = self.getpos()[0]
        for markup in self._open:
            if markup.tag == tag:
                markup.depth += 1
        if tag == "a" and self._open and attributes.get("href"):
            self._open[-1].links.append(attributes["href"])
        widget = self._widget_by_class(attributes.get("class", ""))
        if tag == "iframe":
            self._iframe(line, values, widget)
        elif tag == "script" and attributes.get("src"):
            self._scripts.append((line, attributes["src"]))
        elif widget is not None:
            urls = [attributes[name] for name in _URL_ATTRIBUTES if attributes.get(name)]
            self._open.append(_OpenMarkup(widget, tag, line, urls))
            if len(self._open) > MAX_OPEN_MARKUP:
                self._markup(self._open.pop(0))

    def handle_endtag(self, tag: str) -> None:
        for markup in list(self._open):
            if markup.tag == tag:
                markup.depth -= 1
                if markup.depth == 0:
                    self._open.remove(markup)
                    self._markup(markup)

    def close(self) -> None:
        super().close()
        while self._open:  # unclosed at the end of the text: judge what was seen
            self._markup(self._open.pop())
        for line, src in self._scripts:
            self._script(line, src)

    def _iframe(self, line: int, attrs: Sequence[tuple[str, str]], widget: Provider | None) -> None:
        attributes = dict(attrs)
        # Lazy loaders and consent tools keep the real address in a data- attribute.
        candidates = [attributes.get("src", "")]
        candidates += [value for name, value in attrs if name.startswith("data-")]
        urls = self._absolute_all(candidates)
        found = self._recognise(urls)
        by_frame = (self._widget_by_frame(url) for url in urls)
        frame_widget = widget or next(filter(None, by_frame), None)
        if found is None and frame_widget is None:
            return
        url, ref = found if found else (urls[0] if urls else "", None)
        platform = frame_widget.name if frame_widget else ""
        self._add(line, "iframe", url, ref, platform, attributes)
        if widget is not None:
            self._note_host(widget, url)

    def _markup(self, markup: _OpenMarkup) -> None:
        # X's code puts the post's own link last, after links to mentions and hashtags.
        urls = self._absolute_all([*markup.urls, *reversed(markup.links)])
        found = self._recognise(urls)
        url, ref = found if found else (urls[0] if urls else "", None)
        self._add(markup.line, "markup", url, ref, markup.provider.name)
        self._note_host(markup.provider, url)

    def _script(self, line: int, src: str) -> None:
        url = self._absolute(src)
        if url is None:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        for provider in self._providers:
            code = provider.embed_code
            own_script = code.markup_host_script and (
                parts.path == code.markup_host_script
                and host in self._markup_hosts.get(provider.name, ())
            )
            if _on_hosts(host, code.script_hosts) or own_script:
                self._add(line, "script", url, None, provider.name)
                return

    def _widget_by_class(self, value: str) -> Provider | None:
        """The provider whose widget markup carries one of these classes."""
        classes = set(value.lower().split())
        return next((p for p in self._providers if classes & p.embed_code.classes), None)

    def _widget_by_frame(self, url: str) -> Provider | None:
        host = urlsplit(url).hostname or ""
        frames = (p for p in self._providers if _on_hosts(host, p.embed_code.frame_hosts))
        return next(frames, None)

    def _note_host(self, provider: Provider, url: str) -> None:
        if url:
            self._markup_hosts.setdefault(provider.name, set()).add(urlsplit(url).hostname or "")

    def _add(
        self,
        line: int,
        kind: str,
        url: str,
        ref: EmbedRef | None,
        platform: str,
        attributes: dict[str, str] | None = None,
    ) -> None:
        attributes = attributes or {}
        # A recognised item is reported under the provider that recognised it.
        provider = ref.provider.name if ref is not None else platform
        title = attributes.get("title", "")
        size = _size(attributes.get("width", ""), attributes.get("height", ""))
        self.findings.append(Finding(self._source, line, provider, kind, url, ref, title, size))

    def _recognise(self, urls: Iterable[str]) -> tuple[str, EmbedRef] | None:
        for url in urls:
            for candidate in (url, _without_embed_suffix(url)):
                ref = self._registry.recognise(candidate) if candidate else None
                if ref is not None:
                    return candidate, ref
        return None

    def _absolute_all(self, values: Iterable[str]) -> list[str]:
        return [url for url in map(self._absolute, values) if url]

    def _absolute(self, value: str) -> str | None:
        value = value.strip()
        if not value or len(value) > MAX_URL_LENGTH:
            return None
        try:
            url = urljoin(self._base, value)
            parts = urlsplit(url)
        except ValueError:
            return None
        return url if parts.scheme in ("http", "https") and parts.hostname else None


def _on_hosts(host: str, hosts: Iterable[str]) -> bool:
    return any(host == known or host.endswith(f".{known}") for known in hosts)


def _without_embed_suffix(url: str) -> str:
    """``https://instance/@user/1/embed`` → ``https://instance/@user/1`` (a Mastodon post's
    embed frame names the post); '' when the path does not end in ``/embed``."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith("/embed"):
        return ""
    return parts._replace(path=path.removesuffix("/embed"), query="", fragment="").geturl()


def _size(width: str, height: str) -> tuple[int, int] | None:
    """The iframe's pixel size, if both attributes are plain numbers (not ``100%``)."""
    numbers = [int(v) for v in (width, height) if v.isascii() and v.isdigit() and len(v) <= 5]
    return (numbers[0], numbers[1]) if len(numbers) == 2 and min(numbers) > 0 else None
