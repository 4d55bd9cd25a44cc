from __future__ import annotations

import io
import os
import struct
import threading
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from embedguard.posters import POSTER_WIDTHS, Poster, PosterError, PosterStore

GPS_IFD = 0x8825
ORIENTATION = 0x0112


@pytest.fixture
def store(tmp_path: Path) -> PosterStore:
    return PosterStore(tmp_path / "posters")


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def halves(width: int, height: int) -> Image.Image:
    """Left half red, right half blue: shows where the image's left edge ended up."""
    image = Image.new("RGB", (width, height), (220, 20, 20))
    image.paste((20, 20, 220), (width // 2, 0, width, height))
    return image


def exif_with_gps(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0110] = "Model X"  # Model
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 5.0)})
    return exif


def camera_jpeg(
    width: int = 1600, height: int = 900, orientation: int = 6, *, icc: bool = True
) -> bytes:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(
        halves(width, height),
        "JPEG",
        exif=exif_with_gps(orientation),
        icc_profile=srgb if icc else None,
        comment=b"shot at home, Lindenweg 5",
        quality=90,
    )


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size but carries almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def webp_chunks(data: bytes) -> set[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    kinds, pos = set(), 12
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        kinds.add(kind)
        pos += 8 + size + (size & 1)
    return kinds


def open_file(store: PosterStore, poster: Poster, width: int, fmt: str) -> Image.Image:
    found = store.read(poster.filename(width, fmt))
    assert found is not None
    image = Image.open(io.BytesIO(found[0]))
    image.load()
    return image


def assert_no_metadata(store: PosterStore, poster: Poster) -> None:
    for width in poster.widths:
        jpeg_bytes, media_type = store.read(poster.filename(width, "jpg")) or (b"", "")
        assert media_type == "image/jpeg"
        for marker in (b"Exif\x00\x00", b"ICC_PROFILE", b"http://ns.adobe.com/xap", b"Lindenweg"):
            assert marker not in jpeg_bytes
        jpeg = open_file(store, poster, width, "jpg")
        assert "exif" not in jpeg.info and "icc_profile" not in jpeg.info
        assert "comment" not in jpeg.info and not jpeg.getexif()
        webp_bytes, media_type = store.read(poster.filename(width, "webp")) or (b"", "")
        assert media_type == "image/webp"
        assert not webp_chunks(webp_bytes) & {b"EXIF", b"ICCP", b"XMP "}


def test_jpeg_metadata_is_stripped_and_orientation_applied(store: PosterStore) -> None:
    poster = store.ingest(camera_jpeg(1600, 900, orientation=6))

    # Orientation 6 means "rotate 90° clockwise to display": portrait 900x1600.
    assert poster.widths == (480,)
    assert (poster.width, poster.height) == (480, 853)
    assert_no_metadata(store, poster)
    jpeg = open_file(store, poster, 480, "jpg")
    assert jpeg.size == (480, 853) and jpeg.mode == "RGB"
    top, bottom = jpeg.getpixel((240, 100)), jpeg.getpixel((240, 750))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 150 > top[2]  # the source's left (red) half is now on top
    assert bottom[2] > 150 > bottom[0]


@pytest.mark.parametrize("size", [(960, 540), (300, 200), (2000, 1100)])
def test_metadata_is_stripped_without_resizing_too(
    store: PosterStore, size: tuple[int, int]
) -> None:
    poster = store.ingest(camera_jpeg(*size, orientation=1, icc=False))

    assert poster.width == min(size[0], 1280)
    assert_no_metadata(store, poster)


def test_xmp_is_stripped(store: PosterStore) -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>GPS 52.5,13.4</rdf:RDF></x:xmpmeta>'
    data = encode(halves(1000, 600), "JPEG", xmp=xmp)
    assert b"GPS 52.5" in data

    poster = store.ingest(data)

    assert_no_metadata(store, poster)
    for width in poster.widths:
        for fmt in ("jpg", "webp"):
            assert b"GPS 52.5" not in (store.read(poster.filename(width, fmt)) or (b"",))[0]


def test_widths_and_sizes_follow_the_source(store: PosterStore) -> None:
    poster = store.ingest(encode(halves(2000, 1000), "PNG"))

    assert poster.widths == POSTER_WIDTHS == (480, 960, 1280)
    assert (poster.width, poster.height) == (1280, 640)
    assert poster.aspect == (1280, 640)
    for width in poster.widths:
        for fmt, pillow_format in (("jpg", "JPEG"), ("webp", "WEBP")):
            image = open_file(store, poster, width, fmt)
            assert image.format == pillow_format
            assert image.size == (width, width // 2)
    assert store.exists(poster)


@pytest.mark.parametrize(
    ("size", "widths"),
    [((1000, 500), (480, 960)), ((960, 540), (480, 960)), ((300, 200), (300,)), ((32, 32), (32,))],
)
def test_never_upscales(store: PosterStore, size: tuple[int, int], widths: tuple[int, ...]) -> None:
    poster = store.ingest(encode(halves(*size), "PNG"))

    assert poster.widths == widths
    assert max(poster.widths) <= size[0]
    largest = open_file(store, poster, poster.width, "jpg")
    assert largest.size == (poster.width, poster.height)


def test_png_alpha_is_flattened_on_neutral_background(store: PosterStore) -> None:
    image = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    image.paste((200, 30, 30, 255), (0, 0, 300, 400))

    poster = store.ingest(encode(image, "PNG"))

    webp = open_file(store, poster, 480, "webp")
    assert webp.mode == "RGB"
    opaque, transparent = webp.getpixel((50, 160)), webp.getpixel((430, 160))
    assert isinstance(opaque, tuple) and isinstance(transparent, tuple)
    assert opaque[0] > 150 > opaque[1]
    assert all(225 <= channel <= 255 for channel in transparent)
    assert_no_metadata(store, poster)


def test_gif_first_frame_is_used(store: PosterStore) -> None:
    red, blue = Image.new("RGB", (200, 100), (230, 0, 0)), Image.new("RGB", (200, 100), (0, 0, 230))
    data = encode(red, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)

    poster = store.ingest(data)

    assert poster.widths == (200,)
    pixel = open_file(store, poster, 200, "jpg").getpixel((100, 50))
    assert isinstance(pixel, tuple) and pixel[0] > 200 and pixel[2] < 40


def test_sixteen_bit_greyscale_is_scaled_not_clipped(store: PosterStore) -> None:
    poster = store.ingest(encode(Image.new("I;16", (100, 80), 40_000), "PNG"))

    pixel = open_file(store, poster, 100, "jpg").getpixel((50, 40))
    assert isinstance(pixel, tuple) and all(150 <= channel <= 160 for channel in pixel)


def test_webp_input_is_accepted(store: PosterStore) -> None:
    poster = store.ingest(encode(halves(1300, 700), "WEBP", quality=90))

    assert poster.widths == (480, 960, 1280)
    assert_no_metadata(store, poster)


@pytest.mark.parametrize(
    ("image", "icc"),
    [
        (Image.new("RGB", (400, 300), (200, 30, 30)), "srgb"),
        (Image.new("CMYK", (400, 300), (0, 220, 220, 50)), None),
        (Image.new("RGB", (400, 300), (200, 30, 30)), "garbage"),
    ],
    ids=["srgb-profile", "cmyk", "broken-profile"],
)
def test_colour_is_converted_to_plain_srgb(
    store: PosterStore, image: Image.Image, icc: str | None
) -> None:
    profiles = {
        "srgb": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        "garbage": b"\x00\x00\x01\x00not really a colour profile" * 4,
    }
    data = encode(image, "JPEG", icc_profile=profiles.get(icc or ""), quality=95)

    poster = store.ingest(data)

    output = open_file(store, poster, 400, "jpg")
    assert output.mode == "RGB" and "icc_profile" not in output.info
    pixel = output.getpixel((200, 150))
    assert isinstance(pixel, tuple) and pixel[0] > 150 and pixel[1] < 80 and pixel[2] < 80


def test_reingest_returns_same_poster_without_rewriting(
    store: PosterStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = camera_jpeg(2400, 1350, orientation=1)
    first = store.ingest(data)
    paths = [store.directory / first.filename(w, f) for w in first.widths for f in ("jpg", "webp")]
    mtimes = [p.stat().st_mtime_ns for p in paths]
    replaced: list[object] = []
    monkeypatch.setattr(os, "replace", lambda *args: replaced.append(args))

    second = store.ingest(data)

    assert second == first
    assert replaced == []
    assert [p.stat().st_mtime_ns for p in paths] == mtimes
    assert sorted(os.listdir(store.directory)) == sorted(p.name for p in paths)


def test_name_is_a_content_hash(store: PosterStore) -> None:
    plain = store.ingest(encode(halves(800, 450), "PNG"))
    other = store.ingest(encode(halves(800, 451), "PNG"))

    assert len(plain.name) == 20 and int(plain.name, 16) >= 0
    assert plain.name != other.name


def test_poster_json_round_trip() -> None:
    poster = Poster(name="0123456789abcdef0123", width=1280, height=720, widths=(480, 960, 1280))

    assert Poster.from_json(poster.to_json()) == poster
    assert poster.filename(960, "webp") == "0123456789abcdef0123-960.webp"
    assert poster.filename(480, "jpg") == "0123456789abcdef0123-480.jpg"


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "../../etc/passwd", "width": 480, "height": 270, "widths": [480]}',
        '{"name": "0123456789abcdef0123", "width": 960, "height": 270, "widths": [480]}',
        '{"name": "0123456789abcdef0123", "width": 480, "height": 270, "widths": []}',
        '{"name": "0123456789abcdef0123", "width": "480", "height": 270, "widths": [480]}',
        '{"name": "0123456789abcdef0123"}',
        "[]",
    ],
)
def test_poster_from_json_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        Poster.from_json(text)


def test_filename_rejects_unknown_format_and_width() -> None:
    poster = Poster(name="0123456789abcdef0123", width=960, height=540, widths=(480, 960))

    with pytest.raises(ValueError):
        poster.filename(480, "png")
    with pytest.raises(ValueError):
        poster.filename(1280, "jpg")


def test_neutral_is_deterministic_and_valid(tmp_path: Path) -> None:
    one, two = PosterStore(tmp_path / "a"), PosterStore(tmp_path / "b")

    first = one.neutral("Facebook: Landkreis", seed="page-1")
    again = two.neutral("Facebook: Landkreis", seed="page-1")
    other = one.neutral("Facebook: Landkreis", seed="page-2")

    assert first == again
    assert first.name != other.name
    assert (first.width, first.height, first.widths) == (1280, 720, POSTER_WIDTHS)
    for width in first.widths:
        assert one.read(first.filename(width, "jpg")) == two.read(first.filename(width, "jpg"))
        assert open_file(one, first, width, "webp").size == (width, width * 9 // 16)
    assert_no_metadata(one, first)


def test_neutral_small_and_out_of_range(store: PosterStore) -> None:
    small = store.neutral("x", width=400, height=300)
    assert (small.widths, small.height) == ((400,), 300)

    for size in ((10, 720), (1280, 0), (100_000, 720)):
        with pytest.raises(PosterError):
            store.neutral("x", width=size[0], height=size[1])


HOSTILE = {
    "empty": b"",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"><script/></svg>',
    "html": b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>",
    "random": bytes(range(256)) * 40,
    "huge": b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024),
    "bomb header": png_header_only(100_000, 100_000),
    "over our pixel cap": png_header_only(8_000, 8_000),
    "over pillow's warning cap": png_header_only(10_000, 10_000),
    "header only": png_header_only(800, 600),
    "tiny": encode(Image.new("RGB", (16, 16)), "PNG"),
    "thin": encode(Image.new("RGB", (40, 400)), "PNG"),
    "extreme aspect": encode(Image.new("RGB", (2000, 100)), "PNG"),
    "bmp": encode(halves(200, 100), "BMP"),
    "tiff": encode(halves(200, 100), "TIFF"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_inputs_are_refused(store: PosterStore, name: str) -> None:
    with pytest.raises(PosterError) as info:
        store.ingest(HOSTILE[name])

    assert str(info.value) and "\n" not in str(info.value)
    assert os.listdir(store.directory) == []


def test_truncated_jpeg_is_refused(store: PosterStore) -> None:
    data = encode(halves(1200, 800).effect_spread(40), "JPEG", quality=95)

    with pytest.raises(PosterError, match="truncated or corrupt"):
        store.ingest(data[: len(data) // 2])


def test_size_errors_have_plain_reasons(store: PosterStore) -> None:
    with pytest.raises(PosterError, match=r"^image too large$"):
        store.ingest(HOSTILE["bomb header"])
    with pytest.raises(PosterError, match=r"^not an image$"):
        store.ingest(HOSTILE["svg"])
    with pytest.raises(PosterError, match=r"^image too small$"):
        store.ingest(HOSTILE["tiny"])


def test_no_warning_escapes_even_when_warnings_only_print(store: PosterStore) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in ("over pillow's warning cap", "bomb header"):
            with pytest.raises(PosterError, match=r"^image too large$"):
                store.ingest(HOSTILE[name])

    assert caught == []


@pytest.mark.parametrize(
    "filename",
    [
        "../x",
        "abc-480.png",
        "/etc/passwd",
        "/0123456789abcdef0123-480.jpg",
        "../0123456789abcdef0123-480.jpg",
        "0123456789abcdef0123-480.jpg/..",
        "0123456789ABCDEF0123-480.jpg",
        "0123456789abcdef0123-480.jpg\n",
        "0123456789abcdef0123-480.png",
        "0123456789abcdef012-480.jpg",
        "0123456789abcdef0123-4.jpg",
        "",
    ],
)
def test_read_refuses_invalid_names(store: PosterStore, filename: str) -> None:
    assert store.read(filename) is None


def test_read_missing_file_is_none(store: PosterStore) -> None:
    assert store.read("0123456789abcdef0123-480.jpg") is None


def test_read_never_leaves_the_directory(tmp_path: Path) -> None:
    store = PosterStore(tmp_path / "posters")
    (tmp_path / "0123456789abcdef0123-480.jpg").write_bytes(b"outside")

    assert store.read("../0123456789abcdef0123-480.jpg") is None
    assert store.read(str(tmp_path / "0123456789abcdef0123-480.jpg")) is None


def test_cache_serves_from_memory_and_evicts_least_recently_used(tmp_path: Path) -> None:
    directory = tmp_path / "posters"
    store = PosterStore(directory, memory_budget=250)
    names = [f"{i:020x}-480.jpg" for i in range(3)]
    directory.mkdir(exist_ok=True)
    for name in names:
        (directory / name).write_bytes(name.encode() * 4)  # 112 bytes each: two fit

    assert store.read(names[0]) == (names[0].encode() * 4, "image/jpeg")
    store.read(names[1])
    store.read(names[0])  # names[0] is now the most recently used
    store.read(names[2])  # evicts names[1]
    for name in names:
        (directory / name).unlink()

    assert store.read(names[0]) is not None
    assert store.read(names[2]) is not None
    assert store.read(names[1]) is None


def test_file_larger_than_budget_is_served_but_not_cached(tmp_path: Path) -> None:
    directory = tmp_path / "posters"
    store = PosterStore(directory, memory_budget=10)
    (directory / "0123456789abcdef0123-480.webp").write_bytes(b"x" * 100)

    assert store.read("0123456789abcdef0123-480.webp") == (b"x" * 100, "image/webp")
    (directory / "0123456789abcdef0123-480.webp").unlink()
    assert store.read("0123456789abcdef0123-480.webp") is None


def test_cache_stays_bounded_under_concurrent_reads(tmp_path: Path) -> None:
    directory = tmp_path / "posters"
    budget = 1000
    store = PosterStore(directory, memory_budget=budget)
    names = [f"{i:020x}-960.webp" for i in range(40)]
    for name in names:
        (directory / name).write_bytes(os.urandom(90))
    failures: list[str] = []
    lock = threading.Lock()

    def hammer(offset: int) -> None:
        for i in range(400):
            name = names[(i * 7 + offset) % len(names)]
            if store.read(name) is None:
                with lock:
                    failures.append(name)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(hammer, range(8)))

    assert failures == []
    assert store._cached_bytes <= budget
    assert store._cached_bytes == sum(len(v) for v in store._cache.values())


def test_exists(store: PosterStore) -> None:
    poster = store.ingest(encode(halves(1000, 500), "PNG"))
    assert store.exists(poster)

    (store.directory / poster.filename(960, "webp")).unlink()
    assert not store.exists(poster)
    assert store.ingest(encode(halves(1000, 500), "PNG")) == poster
    assert store.exists(poster)
