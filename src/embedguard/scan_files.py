"""What ``embedguard scan`` reads from disk: HTML and template files, a directory tree of
them, each decoded to text; binary and oversized files are not parsed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 5 * 1024 * 1024
# Files a site or CMS keeps its markup in; a file named on the command line is read anyway.
SCANNED_SUFFIXES = frozenset(
    {
        ".htm",
        ".html",
        ".xhtml",
        ".shtml",
        ".php",
        ".phtml",
        ".inc",
        ".tpl",
        ".twig",
        ".j2",
        ".jinja",
        ".njk",
        ".hbs",
        ".mustache",
        ".erb",
        ".ejs",
        ".jsp",
        ".asp",
        ".aspx",
        ".vue",
        ".svelte",
        ".md",
        ".markdown",
    }
)
# Tool and dependency folders hold no pages of the site.
_SKIPPED_DIRECTORIES = frozenset({"node_modules", "__pycache__", "vendor"})
_SNIFF_BYTES = 8192


class ScanInputError(Exception):
    """A path that cannot be scanned; one line, naming the path."""


@dataclass(frozen=True)
class SourceText:
    name: str  # as the admin will recognise it: the path or URL given, or below the folder given
    text: str
    base_url: str = "https://"  # what relative URLs in it resolve against (a fetched page's URL)


def files_below(path: Path) -> Iterator[Path | ScanInputError]:
    """``path`` itself, or every scanned file below it, in a stable order; hidden folders,
    dependency folders and symbolic links to folders are left out. A folder that cannot be
    read is yielded as its error, and the walk goes on."""
    if not path.is_dir():
        yield path
        return
    errors: list[ScanInputError] = []
    for folder, dirs, files in os.walk(path, onerror=lambda error: errors.append(_error(error))):
        yield from errors
        errors.clear()
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRECTORIES)
        for name in sorted(files):
            if Path(name).suffix.lower() in SCANNED_SUFFIXES:
                yield Path(folder) / name
    yield from errors


def read_source(path: Path, *, named: bool) -> SourceText | None:
    """The file's text; None for a binary file found in a directory (``named``: given on
    the command line, where a binary file is an error)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ScanInputError(f"{path}: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScanInputError(
            f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, not scanned"
        )
    if b"\0" in data[:_SNIFF_BYTES]:
        if named:
            raise ScanInputError(f"{path}: not a text file")
        return None
    return SourceText(str(path), decode_html(data))


def decode_html(data: bytes, charset: str | None = None) -> str:
    """Text from a page's bytes: its declared charset, else UTF-8, else Windows-1252 (what
    older German sites were written in). Only markup and URLs matter, so a wrong guess at
    an umlaut changes nothing that is looked at."""
    for encoding in (charset, "utf-8"):
        if encoding:
            try:
                return data.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
    return data.decode("cp1252", errors="replace")


def _error(error: OSError) -> ScanInputError:
    return ScanInputError(f"{error.filename}: {error.strerror or error}")
