"""Preview images: decoded, checked, stripped of metadata, re-encoded and served from memory.

Every poster is stored as JPEG and WebP at the fixed widths below (never upscaled) under
a content-hash name, so `/posters/{name}` can be served with immutable caching. With a
database (the store), every file is kept there too and the directory is a cache: a new
instance with an empty data directory serves every poster without asking the provider.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import re
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .lazy import lazy_module

if TYPE_CHECKING:
    from PIL import Image, ImageCms, ImageDraw, ImageOps
else:
    Image, ImageCms, ImageDraw, ImageOps = (
        lazy_module(f"PIL.{name}") for name in ("Image", "ImageCms", "ImageDraw", "ImageOps")
    )

POSTER_WIDTHS: tuple[int, ...] = (480, 960, 1280)

MAX_INPUT_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 32
MAX_ASPECT = 8
MAX_NEUTRAL_SIDE = 4096
JPEG_QUALITY = 82
WEBP_QUALITY = 80

_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# Pillow hands multi-picture JPEGs (common from phone cameras) back as "MPO".
_ACCEPTED = frozenset({*_FORMATS, "MPO"})
_MEDIA_TYPES = {"webp": "image/webp", "jpg": "image/jpeg"}
_NAME_RE = re.compile(r"[0-9a-f]{20}")
_FILENAME_RE = re.compile(r"([0-9a-f]{20})-(\d{2,4})\.(webp|jpg)")
_BACKGROUND = (240, 240, 240)
# Calm, neutral gradient pairs for generated previews: (top, bottom).
_NEUTRAL_PALETTE = (
    ((74, 85, 104), (45, 52, 64)),
    ((96, 96, 92), (58, 58, 55)),
    ((84, 98, 90), (50, 60, 55)),
    ((92, 86, 104), (55, 51, 64)),
    ((70, 90, 100), (42, 54, 62)),
)

# warnings.catch_warnings() swaps process-wide state, so only one thread may hold it at a
# time; holding the lock over the whole decode also caps peak memory at one large image.
_DECODE_LOCK = threading.Lock()


class PosterError(Exception):
    """One-line human reason an image was refused, e.g. 'not an image', 'image too large'."""


@dataclass(frozen=True)
class Poster:
    name: str
    width: int
    height: int
    widths: tuple[int, ...]

    def __post_init__(self) -> None:
        if not _NAME_RE.fullmatch(self.name):
            raise ValueError(f"invalid poster name {self.name!r}")
        if not self.widths or list(self.widths) != sorted(set(self.widths)):
            raise ValueError("poster widths must be ascending and unique")
        if self.widths[0] < MIN_SIDE or self.widths[-1] > 9999 or self.width != self.widths[-1]:
            raise ValueError("poster width must be the largest of its widths")
        if self.height < 1:
            raise ValueError("poster height must be positive")

    def filename(self, width: int, fmt: str) -> str:
        if fmt not in _MEDIA_TYPES:
            raise ValueError(f"unknown poster format {fmt!r}")
        if width not in self.widths:
            raise ValueError(f"poster {self.name} has no width {width}")
        return f"{self.name}-{width}.{fmt}"

    def to_json(self) -> str:
        data = {"name": self.name, "width": self.width, "height": self.height}
        return json.dumps({**data, "widths": list(self.widths)}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Poster:
        data: Any = json.loads(text)
        try:
            name, width, height = data["name"], data["width"], data["height"]
            widths = tuple(data["widths"])
        except (KeyError, TypeError) as exc:
            raise ValueError("malformed poster JSON") from exc
        if not isinstance(name, str) or not all(type(v) is int for v in (width, height, *widths)):
            raise ValueError("malformed poster JSON")
        return cls(name=name, width=width, height=height, widths=widths)

    @property
    def aspect(self) -> tuple[int, int]:
        return (self.width, self.height)


class PosterFiles(Protocol):
    """Where poster files are kept for good (the store)."""

    def save_poster_files(self, files: Mapping[str, bytes]) -> None: ...

    def poster_file(self, name: str) -> bytes | None: ...

    def poster_file_names(self) -> set[str]: ...


class PosterStore:
    def __init__(
        self,
        directory: Path,
        *,
        memory_budget: int = 32 * 1024 * 1024,
        database: PosterFiles | None = None,
    ) -> None:
        if memory_budget < 0:
            raise ValueError("memory_budget must not be negative")
        self.directory = Path(directory)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.memory_budget = memory_budget
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()
        self._database = database
        if database is not None:
            self._keep_disk_files(database)

    def _keep_disk_files(self, database: PosterFiles) -> None:
        """Posters made before the database kept them (or by an instance without it)."""
        known = database.poster_file_names()
        found = {}
        for path in self.directory.iterdir():
            if _FILENAME_RE.fullmatch(path.name) and path.name not in known and path.is_file():
                found[path.name] = path.read_bytes()
        if found:
            database.save_poster_files(found)

    def ingest(self, data: bytes) -> Poster:
        """Decode, check and store an untrusted image. CPU-bound: call via a worker thread."""
        with _DECODE_LOCK:
            image = _decode(data)
            return self._store(image)

    def neutral(
        self, label: str, *, width: int = 1280, height: int = 720, seed: str = ""
    ) -> Poster:
        """A calm generated preview; the same inputs always give the same poster."""
        for side in (width, height):
            if not MIN_SIDE <= side <= MAX_NEUTRAL_SIDE:
                raise PosterError("neutral poster size out of range")
        with _DECODE_LOCK:
            return self._store(_render_neutral(label, seed, width, height))

    def read(self, filename: str) -> tuple[bytes, str] | None:
        """(bytes, media type) from memory, loading from disk on a miss; None if unknown."""
        match = _FILENAME_RE.fullmatch(filename)
        if match is None:
            return None
        media_type = _MEDIA_TYPES[match.group(3)]
        with self._lock:
            data = self._cache.get(filename)
            if data is not None:
                self._cache.move_to_end(filename)
                return data, media_type
        try:
            data = (self.directory / filename).read_bytes()
        except OSError:
            found = self._database.poster_file(filename) if self._database else None
            if found is None:
                return None
            data = found
            # The disk is only a cache; memory and the database still serve.
            with contextlib.suppress(OSError):
                _write_atomic(self.directory / filename, data)
        self._remember(filename, data)
        return data, media_type

    def healthy(self) -> bool:
        """Whether the poster directory is there and writable."""
        return self.directory.is_dir() and os.access(self.directory, os.W_OK)

    def exists(self, poster: Poster) -> bool:
        return all((self.directory / f).is_file() for f in _filenames(poster))

    def _remember(self, filename: str, data: bytes) -> None:
        if len(data) > self.memory_budget:
            return
        with self._lock:
            old = self._cache.pop(filename, None)
            if old is not None:
                self._cached_bytes -= len(old)
            self._cache[filename] = data
            self._cached_bytes += len(data)
            while self._cached_bytes > self.memory_budget:
                _, evicted = self._cache.popitem(last=False)
                self._cached_bytes -= len(evicted)

    def _store(self, image: Image.Image) -> Poster:
        widths = _widths_for(image.width)
        variants = {w: _resize(image, w) for w in widths}
        largest_jpeg = _encode(variants[widths[-1]], "jpg")
        name = hashlib.sha256(largest_jpeg).hexdigest()[:20]
        poster = Poster(name, widths[-1], variants[widths[-1]].height, widths)
        kept = self._database.poster_file_names() if self._database else None
        new: dict[str, bytes] = {}
        for w, variant in variants.items():
            for fmt in _MEDIA_TYPES:
                filename = poster.filename(w, fmt)
                path = self.directory / filename
                # content-addressed: an existing file already has these bytes
                on_disk, in_database = path.is_file(), kept is None or filename in kept
                if on_disk and in_database:
                    continue
                is_largest_jpeg = (w, fmt) == (widths[-1], "jpg")
                if on_disk:
                    data = path.read_bytes()
                else:
                    data = largest_jpeg if is_largest_jpeg else _encode(variant, fmt)
                    _write_atomic(path, data)
                if not in_database:
                    new[filename] = data
        if new and self._database is not None:
            self._database.save_poster_files(new)
        return poster


def _filenames(poster: Poster) -> list[str]:
    return [poster.filename(w, fmt) for w in poster.widths for fmt in _MEDIA_TYPES]


def _decode(data: bytes) -> Image.Image:
    if not data:
        raise PosterError("empty file")
    if len(data) > MAX_INPUT_BYTES:
        raise PosterError("image too large")
    image = _open(data)
    _check_header(image)
    try:
        if image.format in ("JPEG", "MPO"):
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still covers every width.
            image.draft("RGB", (POSTER_WIDTHS[-1], POSTER_WIDTHS[-1]))
        image.load()
        image = ImageOps.exif_transpose(image)
        return _to_srgb(image)
    except PosterError:
        raise
    except Exception as exc:  # hostile input can make any decoder step raise anything
        raise PosterError("image is truncated or corrupt") from exc


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PosterError("image too large") from exc
        except Exception as exc:  # Pillow raises many types for garbage headers
            raise PosterError("not an image") from exc
    if image.format not in _ACCEPTED:
        raise PosterError("unsupported image format")
    return image


def _check_header(image: Image.Image) -> None:
    """Checks the declared size before any pixel data is decoded."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise PosterError("image too large")
    if min(width, height) < MIN_SIDE:
        raise PosterError("image too small")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise PosterError("image aspect ratio too extreme")


def _to_srgb(image: Image.Image) -> Image.Image:
    """Flattens alpha, converts embedded colour profiles to sRGB, drops all metadata."""
    icc = image.info.get("icc_profile")
    if image.mode.startswith("I"):
        # 16-bit greyscale: Pillow would clip to 255 rather than scale to 8 bits.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        image = _flatten(image)
    if isinstance(icc, bytes) and icc and image.mode in ("RGB", "CMYK", "L"):
        image = _apply_profile(image, icc)
    rgb = image.convert("RGB") if image.mode != "RGB" else image.copy()
    rgb.info = {}
    return rgb


def _flatten(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (*_BACKGROUND, 255))
    background.alpha_composite(rgba)
    return background.convert("RGB")


def _apply_profile(image: Image.Image, icc: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, _srgb(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken or mismatched profile: keep the pixels as they are
    return converted if converted is not None else image


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _widths_for(source_width: int) -> tuple[int, ...]:
    widths = tuple(w for w in POSTER_WIDTHS if w <= source_width)
    return widths or (source_width,)


def _resize(image: Image.Image, width: int) -> Image.Image:
    if width == image.width:
        return image
    height = max(1, round(image.height * width / image.width))
    resized = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    resized.info = {}
    return resized


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "jpg":
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True)
    else:
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    return buffer.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _render_neutral(label: str, seed: str, width: int, height: int) -> Image.Image:
    digest = hashlib.sha256(f"{seed}\x00{label}".encode()).digest()
    top, bottom = _NEUTRAL_PALETTE[digest[0] % len(_NEUTRAL_PALETTE)]
    gradient = Image.linear_gradient("L").resize((width, height), Image.Resampling.BILINEAR)
    image = ImageOps.colorize(gradient, black=top, white=bottom).convert("RGB")
    icon_size = max(MIN_SIDE // 2, min(width, height) // 4)
    icon = _play_icon_mask(icon_size)
    position = ((width - icon_size) // 2, (height - icon_size) // 2)
    image.paste(Image.new("RGB", icon.size, (245, 245, 242)), position, icon)
    image.info = {}
    return image


def _play_icon_mask(size: int) -> Image.Image:
    """A ring with a play triangle, drawn at 4x and scaled down for smooth edges."""
    big = size * 4
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    draw.ellipse((0, 0, big - 1, big - 1), fill=200)
    inset = big // 14
    draw.ellipse((inset, inset, big - 1 - inset, big - 1 - inset), fill=0)
    third = big // 3
    triangle = [
        (third + big // 16, third - big // 20),
        (third + big // 16, big - third + big // 20),
    ]
    triangle.append((big - third + big // 12, big // 2))
    draw.polygon(triangle, fill=220)
    return mask.resize((size, size), Image.Resampling.LANCZOS)
