"""`embedguard scan`: files, folders and pages in, findings and replacements out, --add."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from embedguard import services as services_module
from embedguard.cli import main
from embedguard.providers import Registry, default_registry
from embedguard.scan_files import MAX_FILE_BYTES

from .fake_upstream import VIMEO_FORBIDDEN, VIMEO_OK, VIMEO_OK_TITLE, X_HANDLE, X_POST_OK
from .logging_proxy import logging_proxy
from .servers import run_asgi_in_thread, upstream_map_for
from .test_scan import TootProvider

PUBLIC_URL = "https://einbettung.example.de"
PAGE = "wirtschaft.in.mittelsachsen"

VIDEO_PAGE = f"""<html><body>
<h1>Film</h1>
<iframe src="https://player.vimeo.com/video/{VIMEO_OK}" width="640" height="360"
        title="Unser Film"></iframe>
</body></html>
"""
SOCIAL_PAGE = f"""<html><body>
<blockquote class="twitter-tweet"><p>Text</p>
<a href="https://twitter.com/{X_HANDLE}/status/{X_POST_OK}?ref_src=twsrc%5Etfw">1. März</a>
</blockquote>
<a class="twitter-timeline" href="https://twitter.com/{X_HANDLE}?ref_src=twsrc%5Etfw">Posts</a>
<iframe src="https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com%2F{PAGE}"></iframe>
</body></html>
"""
REPLACED_PAGE = f"""<html><body>
<iframe src="{PUBLIC_URL}/vimeo/{VIMEO_OK}" title="Unser Film"></iframe>
</body></html>
"""


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_upstream: tuple[str, Starlette]
) -> Path:
    monkeypatch.setenv("EMBEDGUARD_SECRET_KEYS", "scan-test-key-0123456789")
    monkeypatch.setenv("EMBEDGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EMBEDGUARD_UPSTREAM_MAP", upstream_map_for(fake_upstream[0]))
    monkeypatch.setenv("EMBEDGUARD_PUBLIC_URL", PUBLIC_URL)
    site = tmp_path / "site"
    site.mkdir()
    return site


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["scan", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[Any], str]:
    code, out, err = run(capsys, "--json", *args)
    rows: list[Any] = json.loads(out)
    return code, rows, err


def listed(capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["embed", "list", "--json"]) == 0
    return sorted(row["key"] for row in json.loads(capsys.readouterr().out))


def test_a_file_with_a_direct_embed_gets_its_replacement(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = env / "film.html"
    page.write_text(VIDEO_PAGE)
    code, out, err = run(capsys, str(page))
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[0] == (
        f"{page}:3: vimeo iframe vimeo:{VIMEO_OK}: not allowed yet "
        "(embedguard scan --add, or embedguard embed add URL)"
    )
    assert lines[1].startswith(f'    replace with: <iframe src="{PUBLIC_URL}/vimeo/{VIMEO_OK}"')
    assert 'title="Unser Film" width="640" height="360"' in lines[1]
    assert lines[-1] == "1 direct embeds in 1 file; 1 can be replaced as shown"


def test_json_has_the_contract_fields(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env / "social.html").write_text(SOCIAL_PAGE)
    code, rows, _ = run_json(capsys, str(env / "social.html"))
    assert code == 1
    assert [(r["line"], r["provider"], r["key"]) for r in rows] == [
        (2, "twitter", f"twitter:{X_HANDLE}/status/{X_POST_OK}"),
        (5, "twitter", f"twitter:{X_HANDLE}"),
        (6, "facebook", f"facebook:{PAGE}"),
    ]
    for row in rows:
        assert {"file", "line", "provider", "key", "replacement"} <= row.keys()
        assert row["file"] == str(env / "social.html")
        assert row["replacement"].startswith(f'<iframe src="{row["embed_url"]}"')
        assert row["allowed"] is False
    assert rows[2]["embed_url"] == f"{PUBLIC_URL}/facebook/{PAGE}"


def test_nothing_direct_left_exits_0(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env / "index.html").write_text(REPLACED_PAGE)
    assert run(capsys, str(env)) == (0, "no direct embeds in 1 file\n", "")
    assert run_json(capsys, str(env)) == (0, [], "")


def test_folders_are_read_recursively_and_only_markup_files(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "de" / "aktuelles").mkdir(parents=True)
    (env / "de" / "aktuelles" / "news.PHP").write_text(VIDEO_PAGE)
    (env / "templates").mkdir()
    (env / "templates" / "footer.tpl").write_text(SOCIAL_PAGE)
    (env / "index.htm").write_text(REPLACED_PAGE)
    (env / "notes.txt").write_text(VIDEO_PAGE)
    (env / "style.css").write_text(VIDEO_PAGE)
    (env / ".git").mkdir()
    (env / ".git" / "old.html").write_text(VIDEO_PAGE)
    (env / "node_modules").mkdir()
    (env / "node_modules" / "demo.html").write_text(VIDEO_PAGE)
    (env / "logo.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + VIDEO_PAGE.encode())
    code, rows, err = run_json(capsys, str(env))
    assert code == 1 and err == ""
    assert sorted({Path(row["file"]).relative_to(env).as_posix() for row in rows}) == [
        "de/aktuelles/news.PHP",
        "templates/footer.tpl",
    ]


def test_files_in_old_encodings_are_read(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = env / "alt.html"
    page.write_bytes(f"<p>Größe</p>\n{VIDEO_PAGE}".encode("iso-8859-1"))
    code, rows, _ = run_json(capsys, str(page))
    assert code == 1 and rows[0]["line"] == 4


def test_unreadable_inputs_are_one_line_each_and_the_rest_is_scanned(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "film.html").write_text(VIDEO_PAGE)
    (env / "broken.html").symlink_to(env / "gone.html")
    big = env / "big.html"
    big.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    binary = env / "image.png"
    binary.write_bytes(b"\x89PNG\x00\x00")
    missing = env / "missing.html"
    named_binary = f"{env}/./image.png"  # named on the command line, however spelled
    code, rows, err = run_json(capsys, str(env), str(missing), named_binary)
    assert code == 1
    assert [row["key"] for row in rows] == [f"vimeo:{VIMEO_OK}"]
    errors = sorted(err.splitlines())
    assert len(errors) == 4
    assert all(line.startswith("embedguard: error: ") for line in errors)
    assert any("big.html: larger than 5 MB" in line for line in errors)
    assert any("broken.html: No such file or directory" in line for line in errors)
    assert any("missing.html: No such file or directory" in line for line in errors)
    assert any("image.png: not a text file" in line for line in errors)


def test_only_a_missing_path_is_exit_1_with_nothing_on_stdout(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, str(env / "nope"))
    assert (code, out.splitlines()[-1]) == (1, "no direct embeds in 0 files")
    assert err == f"embedguard: error: {env / 'nope'}: No such file or directory\n"


def test_usage_errors_exit_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["scan"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", "--frobnicate", str(env)])
    assert exit_info.value.code == 2


def test_add_allows_what_it_found_accounts_before_posts(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "social.html").write_text(SOCIAL_PAGE)  # the post comes before its account
    (env / "film.html").write_text(VIDEO_PAGE)
    code, out, err = run(capsys, "--add", str(env))
    assert code == 1, err  # the pages still embed directly until they are edited
    assert err == ""
    added = [line for line in out.splitlines() if line.endswith(": added")]
    assert added == [
        f"vimeo:{VIMEO_OK}: added",
        f"twitter:{X_HANDLE}: added",
        f"facebook:{PAGE}: added",
        f"twitter:{X_HANDLE}/status/{X_POST_OK}: added",
    ]
    assert listed(capsys) == sorted(line.removesuffix(": added") for line in added)
    # The replacement now names the stored title, and a second --add changes nothing.
    code, rows, err = run_json(capsys, "--add", str(env / "film.html"))
    assert err == f"vimeo:{VIMEO_OK}: already allowed\n"
    assert rows[0]["allowed"] is True and rows[0]["note"] == "allowed"
    assert f'title="{VIMEO_OK_TITLE}"' in rows[0]["replacement"]


def test_add_failures_are_one_line_each_and_store_nothing_for_them(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = env / "mixed.html"
    page.write_text(
        f'<iframe src="https://player.vimeo.com/video/{VIMEO_FORBIDDEN}"></iframe>\n'
        f'<blockquote class="twitter-tweet"><a href="https://x.com/{X_HANDLE}/status/{X_POST_OK}">'
        "</a></blockquote>\n"
        f'<iframe src="https://player.vimeo.com/video/{VIMEO_OK}"></iframe>\n'
    )
    code, out, err = run(capsys, "--add", str(page))
    assert code == 1
    errors = err.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"embedguard: error: vimeo:{VIMEO_FORBIDDEN}: Vimeo refuses")
    assert errors[1] == (
        f"embedguard: error: twitter:{X_HANDLE}/status/{X_POST_OK}: "
        f"allow the account first (twitter:{X_HANDLE}), then its posts"
    )
    assert f"vimeo:{VIMEO_OK}: added" in out.splitlines()
    assert listed(capsys) == [f"vimeo:{VIMEO_OK}"]


def test_runtime_provider_gets_scan_and_add_with_no_other_change(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        services_module,
        "default_registry",
        lambda: Registry(
            # In place of the built-in Mastodon provider, which would claim the same URLs.
            [*(p for p in default_registry() if p.name != "mastodon"), TootProvider()]
        ),
    )
    (env / "post.html").write_text(
        '<iframe src="https://social.example/@kreis/42/embed" class="toot-embed"></iframe>\n'
        '<script src="https://social.example/toot.js" async></script>\n'
    )
    code, rows, err = run_json(capsys, "--add", str(env))
    assert code == 1 and err == "toot:social.example/42: added\n"
    assert [(r["provider"], r["kind"], r["key"]) for r in rows] == [
        ("toot", "iframe", "toot:social.example/42"),
        ("toot", "script", ""),
    ]
    assert rows[0]["embed_url"] == f"{PUBLIC_URL}/toot/social.example/42"
    assert 'title="Post social.example/42"' in rows[0]["replacement"]
    assert rows[1]["replacement"] == "" and "remove it" in rows[1]["note"]


# --- pages fetched by URL ---------------------------------------------------------------


def _site() -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(
            VIDEO_PAGE.replace(
                "</body>", '<iframe src="//player.vimeo.com/video/76979872"></iframe></body>'
            )
        )

    async def moved(request: Request) -> Response:
        return RedirectResponse("/seite.html", status_code=301)

    async def text(request: Request) -> Response:
        return PlainTextResponse("kein HTML")

    return Starlette(
        routes=[Route("/seite.html", page), Route("/alt", moved), Route("/robots.txt", text)]
    )


@pytest.fixture(scope="module")
def county_site() -> Iterator[str]:
    with run_asgi_in_thread(_site()) as base_url:
        yield base_url


def test_a_page_on_a_private_address_needs_allow_private(
    env: Path, capsys: pytest.CaptureFixture[str], county_site: str
) -> None:
    code, _out, err = run(capsys, f"{county_site}/seite.html")
    assert code == 1
    assert err == (
        "embedguard: error: 127.0.0.1 is a private address (127.0.0.1); "
        "use --allow-private to scan a copy on your own network\n"
    )
    code, rows, err = run_json(capsys, "--allow-private", f"{county_site}/alt")
    assert code == 1 and err == ""
    assert [(r["file"], r["line"], r["key"]) for r in rows] == [
        (f"{county_site}/alt", 3, f"vimeo:{VIMEO_OK}"),
        (f"{county_site}/alt", 5, "vimeo:76979872"),
    ]
    # The protocol-relative frame takes the scheme of the page it is on.
    assert rows[1]["url"] == "http://player.vimeo.com/video/76979872"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/robots.txt", "127.0.0.1 sent text/plain, not an HTML page"),
        ("/fehlt", "127.0.0.1 answered 404"),
    ],
)
def test_pages_that_are_not_html_are_one_line_errors(
    env: Path, capsys: pytest.CaptureFixture[str], county_site: str, path: str, reason: str
) -> None:
    code, _out, err = run(capsys, "--allow-private", f"{county_site}{path}")
    assert (code, err) == (1, f"embedguard: error: {reason}\n")


@pytest.mark.parametrize(
    "url", ["ftp://example.de/seite.html", "file:///etc/passwd", "https://user:pw@example.de/"]
)
def test_only_plain_http_urls_are_fetched(
    env: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, _out, err = run(capsys, url)
    assert code == 1
    assert len(err.splitlines()) == 1 and err.startswith("embedguard: error: ")


def test_pages_go_through_the_outbound_proxy_with_every_check(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    county_site: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with logging_proxy() as (proxy_url, log):
        monkeypatch.setenv("EMBEDGUARD_OUTBOUND_PROXY", proxy_url)
        code, _out, err = run(capsys, f"{county_site}/seite.html")
        assert (code, log) == (1, [])  # refused before anything is sent
        assert "private address" in err
        code, rows, err = run_json(capsys, "--allow-private", f"{county_site}/seite.html")
    assert (code, err) == (1, "")
    assert [row["key"] for row in rows] == [f"vimeo:{VIMEO_OK}", "vimeo:76979872"]
    assert log == [f"GET {county_site}/seite.html"]
