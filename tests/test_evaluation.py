"""The yearly evaluation over HTTP: a known sequence of visits across two months and two
providers (plus admin previews), checked to the number on the page, in the CSV and in
`embedguard report`; the year picker, bad years, the counting rules."""

# Fixtures come from test_admin_support; using them as arguments "redefines" the imports.
# ruff: noqa: F811

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from embedguard import charts
from embedguard.cli import main
from embedguard.evaluation import Counts
from embedguard.providers import default_registry
from embedguard.services import Services
from embedguard.settings import Settings
from embedguard.store import Embed

from .conftest import TEST_KEYS
from .test_admin_support import (
    FakeClock,
    account,  # noqa: F401
    admin,  # noqa: F401
    clock,  # noqa: F401
    fast_hashing,  # noqa: F401
)

VIDEO, PAGE = "vimeo:76979871", "facebook:wirtschaft.in.mittelsachsen"
VIDEO_PATH, PAGE_PATH = "/vimeo/76979871", "/facebook/wirtschaft.in.mittelsachsen"
HEADER = "month,provider,key,title,views,load_once,load_always,revokes"
EXPECTED_CSV = (
    f"{HEADER}\n"
    f"2025-03,facebook,{PAGE},Wirtschaft in Mittelsachsen,2,0,1,0\n"
    f"2025-03,vimeo,{VIDEO},Ein Video,4,1,0,0\n"
    f"2025-04,facebook,{PAGE},Wirtschaft in Mittelsachsen,0,0,0,1\n"
    "2025-04,vimeo,,,0,0,0,1\n"
    f"2025-04,vimeo,{VIDEO},Ein Video,1,0,1,0\n"
)


def at(clock: FakeClock, *when: int) -> None:
    year, month, day = when
    clock.now = datetime(year, month, day, 12, tzinfo=UTC).timestamp()


def consent(client: TestClient, provider: str, scope: str, next_path: str) -> None:
    response = client.post(
        "/consent", data={"provider": provider, "scope": scope, "next": next_path}
    )
    if scope == "once":  # the answer is the loaded page itself
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 303, response.text
    assert client.get(response.headers["location"]).status_code == 200  # the loaded page


def revoke(client: TestClient, provider: str, next_path: str) -> None:
    response = client.post("/consent/revoke", data={"provider": provider, "next": next_path})
    assert response.status_code == 303


def preview_src(admin: TestClient, key: str) -> str:
    page = admin.get(f"/admin/embeds/{key}")
    match = re.search(r'class="live-preview[^"]*">\s*<iframe src="([^"]+)"', page.text)
    assert match, "no live preview on the embed page"
    return unescape(match.group(1))


@pytest.fixture
def items(stored_embed: Callable[..., Embed]) -> None:
    stored_embed(VIDEO)
    stored_embed(PAGE, title="Wirtschaft in Mittelsachsen")


@pytest.fixture
def visits(
    app: Starlette, admin: TestClient, clock: FakeClock, items: None, services: Services
) -> FakeClock:
    """The known sequence: March and April 2025, Vimeo and Facebook, plus admin previews."""
    visitor = TestClient(app, base_url="http://testserver", follow_redirects=False)
    at(clock, 2025, 3, 10)
    for _ in range(3):
        assert visitor.get(VIDEO_PATH).status_code == 200
    etag = visitor.get(PAGE_PATH).headers["etag"]
    # A cache in front revalidates: a 304, and still a view.
    assert visitor.get(PAGE_PATH, headers={"if-none-match": etag}).status_code == 304
    etag = visitor.get(VIDEO_PATH, headers={"if-none-match": "x"}).headers["etag"]
    consent(visitor, "vimeo", "once", VIDEO_PATH)  # 4 views now, 1 once
    consent(visitor, "facebook", "always", PAGE_PATH)
    # The admin's live preview: shown, never counted.
    for key in (VIDEO, PAGE):
        src = preview_src(admin, key)
        assert "preview=" in src
        assert visitor.get(src).status_code in (200, 304)
        assert TestClient(app).get(src).status_code == 200
    at(clock, 2025, 4, 2)
    assert visitor.get(VIDEO_PATH, headers={"if-none-match": etag}).status_code == 304
    revoke(visitor, "facebook", PAGE_PATH)  # from the loaded embed: counted for that item
    consent(visitor, "vimeo", "always", VIDEO_PATH)
    revoke(visitor, "all", "/consent")  # only Vimeo was still allowed: one revocation
    at(clock, 2026, 1, 15)
    return clock


def test_csv_holds_the_visits_to_the_number(admin: TestClient, visits: FakeClock) -> None:
    response = admin.get("/admin/evaluation/2025.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    assert response.text == EXPECTED_CSV
    assert admin.get("/admin/evaluation/2024.csv").text == f"{HEADER}\n"


def _cells(html: str, caption: str) -> dict[str, list[str]]:
    """A table's rows (header cell -> data cells), found by its caption."""
    start = html.index(f"<caption>{caption}</caption>")
    table = html[start : html.index("</table>", start)]
    rows: dict[str, list[str]] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        head = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if head:
            label = re.sub(r"<[^>]+>", "", head.group(1)).strip()
            rows[unescape(label)] = [unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)]
    return rows


def test_page_shows_totals_rates_and_months_in_german(admin: TestClient, visits: FakeClock) -> None:
    page = admin.get("/admin/evaluation")  # default: the last full year, 2025
    assert page.status_code == 200
    html = page.text
    assert "Auswertung 2025" in html
    totals = _cells(html, "Summen je Kanal 2025")
    assert totals["Vimeo"] == ["5", "1", "1", "1", "40,0\xa0%"]
    assert totals["Facebook"] == ["2", "0", "1", "1", "50,0\xa0%"]
    assert totals["X"][:4] == ["0", "0", "0", "0"]
    assert totals["Alle Kanäle"] == ["7", "1", "2", "2", "42,9\xa0%"]
    items = _cells(html, "Vimeo: Zählungen je Inhalt 2025")
    assert items[f"Ein Video {VIDEO}"] == ["5", "1", "1", "0", "40,0\xa0%"]
    assert items["(kein Inhalt: auf der Einwilligungs- oder Datenschutzseite widerrufen)"][3] == "1"
    months = _cells(html, "Vimeo je Monat")
    assert months["März 2025"] == ["4", "1", "0", "0"]
    assert months["April 2025"] == ["1", "0", "1", "1"]
    assert months["Januar 2025"] == ["0", "0", "0", "0"]
    # The chart: server-side SVG with a text alternative, no script needed.
    assert html.count('<svg class="chart-svg"') == len(default_registry().names())
    assert "Meiste Aufrufe im März 2025: 4." in html
    assert "Bots" in html  # the page says bots count as views


def test_page_in_english(admin: TestClient, visits: FakeClock) -> None:
    html = admin.get("/admin/evaluation?year=2025&lang=en").text
    assert _cells(html, "Totals per channel in 2025")["All channels"] == [
        "7", "1", "2", "2", "42.9%"
    ]  # fmt: skip
    assert "March 2025" in _cells(html, "Vimeo per month")


def test_large_numbers_use_the_pages_grouping(
    admin: TestClient, clock: FakeClock, services: Services, items: None
) -> None:
    at(clock, 2026, 2, 1)
    services.store.add_usage({("vimeo", VIDEO, "view"): 1234}, "2025-06-30")
    assert "1.234" in _cells(admin.get("/admin/evaluation").text, "Vimeo je Monat")["Juni 2025"]
    english = admin.get("/admin/evaluation?lang=en").text
    assert _cells(english, "Vimeo per month")["June 2025"][0] == "1,234"


def test_year_picker_offers_the_years_with_data(
    admin: TestClient, clock: FakeClock, services: Services, items: None
) -> None:
    at(clock, 2026, 5, 1)
    services.store.add_usage({("vimeo", VIDEO, "view"): 2}, "2023-04-01")
    html = admin.get("/admin/evaluation").text
    options = re.findall(r'<option value="(\d{4})"( selected)?>', html)
    assert options == [("2025", " selected"), ("2023", "")]
    current = admin.get("/admin/evaluation?year=2026").text
    assert "2026 ist noch nicht vorbei" in current


@pytest.mark.parametrize("year", ["20x5", "1999", "2027", "02025", "-2025", "٢٠٢٥"])
def test_bad_years_are_a_clear_400(admin: TestClient, clock: FakeClock, year: str) -> None:
    at(clock, 2026, 5, 1)
    assert admin.get("/admin/evaluation", params={"year": year}).status_code == 400
    assert admin.get(f"/admin/evaluation/{year}.csv").status_code == 400


def test_evaluation_needs_a_login(client: TestClient) -> None:
    for path in ("/admin/evaluation", "/admin/evaluation/2025.csv"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login")


def test_forged_or_foreign_preview_markers_still_count(
    admin: TestClient, app: Starlette, services: Services, items: None
) -> None:
    visitor = TestClient(app)
    video_marker = preview_src(admin, VIDEO).partition("preview=")[2]
    visitor.get(VIDEO_PATH, params={"preview": "forged"})
    visitor.get(PAGE_PATH, params={"preview": video_marker})  # another item's marker
    services.usage.flush()
    views = {r["embed_key"]: r["count"] for r in services.store.usage() if r["event"] == "view"}
    assert views == {VIDEO: 1, PAGE: 1}


def test_the_preview_gets_the_visitors_page(admin: TestClient, app: Starlette, items: None) -> None:
    """The same page, but its own form and language link keep the marker, so the admin's
    clicks in it are not counted either; a forged marker never gets into a page."""
    visitor = TestClient(app)
    src = preview_src(admin, VIDEO)
    marker = src.partition("preview=")[2]
    plain = visitor.get(VIDEO_PATH).text
    preview = visitor.get(src).text
    assert preview != plain
    assert preview.replace(f"&amp;preview={marker}", "") == plain
    assert visitor.get(VIDEO_PATH, params={"preview": "forged"}).text == plain
    video_marker = {"preview": marker}
    assert visitor.get(PAGE_PATH, params=video_marker).text == visitor.get(PAGE_PATH).text


def _next_field(html: str) -> str:
    """Where the page's consent or revoke form sends the visitor back to."""
    match = re.search(r'<input type="hidden" name="next" value="([^"]+)">', html)
    assert match, "no form with a next field on the page"
    return unescape(match.group(1))


def _counts(services: Services) -> dict[tuple[str, str, str], int]:
    services.usage.flush()
    return {(r["provider"], r["embed_key"], r["event"]): r["count"] for r in services.store.usage()}


def test_consent_clicks_in_the_admin_preview_are_not_counted(
    admin: TestClient, services: Services, items: None, stored_embed: Callable[..., Embed]
) -> None:
    """Load once, always, revoke and the language switch, clicked in the admin's live
    preview the way the browser sends them: they work, and count nothing."""
    account = stored_embed("twitter:mswirtschaft", title="@MSWirtschaft").key
    for key in (VIDEO, PAGE, account):
        provider = key.partition(":")[0]
        placeholder = admin.get(preview_src(admin, key))
        next_path = _next_field(placeholder.text)
        once = admin.post(
            "/consent", data={"provider": provider, "scope": "once", "next": next_path}
        )
        assert once.status_code == 200 and 'action="/consent"' not in once.text
        always = admin.post(
            "/consent", data={"provider": provider, "scope": "always", "next": next_path}
        )
        assert always.status_code == 303
        loaded = admin.get(always.headers["location"])
        assert loaded.status_code == 200 and 'action="/consent/revoke"' in loaded.text
        revoked = admin.post(
            "/consent/revoke", data={"provider": provider, "next": _next_field(loaded.text)}
        )
        assert revoked.status_code == 303
        again = admin.get(revoked.headers["location"])
        assert again.status_code == 200 and 'action="/consent"' in again.text
        english = re.search(r'<a href="([^"]+)" lang="en"', again.text)
        assert english and admin.get(unescape(english.group(1))).status_code == 200
    assert _counts(services) == {}


def test_picked_posts_in_an_account_preview_stay_in_the_preview(
    admin: TestClient, app: Starlette, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    """From the preview of an X account the admin may open one of its picked posts; that
    post's page and the clicks in it are the preview's too, a visitor's are counted."""
    stored_embed("twitter:mswirtschaft", title="@MSWirtschaft")
    post = stored_embed(
        "twitter:mswirtschaft/status/1700000000000000001",
        title="Neues Gewerbegebiet",
        content="<p>Neues Gewerbegebiet eröffnet</p>",
    )
    account = admin.get(preview_src(admin, "twitter:mswirtschaft")).text
    link = re.search(r'<a href="(/twitter/mswirtschaft/status/[^"]+)">', account)
    assert link and "preview=" in link.group(1)
    shown = admin.get(unescape(link.group(1)))
    assert shown.status_code == 200 and "Neues Gewerbegebiet eröffnet" in shown.text
    next_path = _next_field(shown.text)
    assert (
        admin.post(
            "/consent", data={"provider": "twitter", "scope": "once", "next": next_path}
        ).status_code
        == 200
    )
    assert _counts(services) == {}
    visitor = TestClient(app)
    plain = visitor.get("/twitter/mswirtschaft").text
    assert "preview=" not in plain and f'href="/twitter/{post.item_id}?lang=de"' in plain
    visitor.get(f"/twitter/{post.item_id}")
    assert _counts(services) == {
        ("twitter", "twitter:mswirtschaft", "view"): 1,
        ("twitter", post.key, "view"): 1,
    }


def test_forged_or_foreign_preview_markers_on_consent_still_count(
    admin: TestClient, app: Starlette, services: Services, items: None
) -> None:
    """A visitor cannot make their own click vanish: only the marker the admin page signed,
    for the very item the form is about, skips the count."""
    visitor = TestClient(app, follow_redirects=False)
    video_marker = preview_src(admin, VIDEO).partition("preview=")[2]
    forged = f"{VIDEO_PATH}?lang=de&preview=forged"
    foreign = f"{PAGE_PATH}?lang=de&preview={video_marker}"  # the video's marker on the page
    consent(visitor, "vimeo", "once", forged)
    consent(visitor, "vimeo", "always", forged)
    revoke(visitor, "vimeo", forged)
    consent(visitor, "facebook", "once", foreign)
    consent(visitor, "facebook", "always", foreign)
    revoke(visitor, "all", foreign)
    assert _counts(services) == {
        ("vimeo", VIDEO, "load_once"): 1,
        ("vimeo", VIDEO, "load_always"): 1,
        ("vimeo", VIDEO, "revoke"): 1,
        ("facebook", PAGE, "load_once"): 1,
        ("facebook", PAGE, "load_always"): 1,
        ("facebook", PAGE, "revoke"): 1,
    }


def test_an_admins_own_visits_are_not_counted(
    admin: TestClient, app: Starlette, services: Services, items: None
) -> None:
    """The session cookie stays scoped to /admin; a second cookie on / marks the admin's
    browser (staff.py), so opening an embed page directly counts nothing, a visitor's does."""
    cookie = next(c for c in admin.cookies.jar if c.name == "eg_admin")
    assert cookie.path == "/admin"
    assert admin.get(VIDEO_PATH).status_code == 200
    consent(admin, "vimeo", "once", VIDEO_PATH)
    consent(admin, "facebook", "always", PAGE_PATH)
    revoke(admin, "all", PAGE_PATH)
    assert _counts(services) == {}
    TestClient(app).get(VIDEO_PATH)
    assert _counts(services) == {("vimeo", VIDEO, "view"): 1}


# -- the command line ----------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    monkeypatch.setenv("EMBEDGUARD_SECRET_KEYS", ",".join(TEST_KEYS))
    monkeypatch.setenv("EMBEDGUARD_DATA_DIR", str(settings.data_dir))
    return settings


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_csv_is_the_download_byte_for_byte(
    admin: TestClient,
    visits: FakeClock,
    services: Services,
    cli_env: Settings,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    download = admin.get("/admin/evaluation/2025.csv").content
    code, out, err = run(capsys, "--year", "2025")
    assert (code, err) == (0, "")
    assert out.encode() == download
    target = tmp_path / "report.csv"
    assert run(capsys, "--year", "2025", "--format", "csv", "--output", str(target))[0] == 0
    assert target.read_bytes() == download == EXPECTED_CSV.encode()


def test_cli_json_has_the_same_numbers(
    visits: FakeClock, services: Services, cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    services.usage.flush()
    code, out, _ = run(capsys, "--year", "2025", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["year"] == 2025 and data["complete"] is True
    assert data["total"] == {
        "views": 7, "load_once": 1, "load_always": 2, "revokes": 2, "loads_per_view": 0.4286
    }  # fmt: skip
    vimeo = next(c for c in data["channels"] if c["provider"] == "vimeo")
    assert vimeo["total"]["views"] == 5
    assert [m["views"] for m in vimeo["months"]][2:4] == [4, 1]
    rows = list(csv.DictReader(io.StringIO(EXPECTED_CSV)))
    assert [{k: str(v) for k, v in r.items()} for r in data["rows"]] == rows


def test_cli_html_is_the_printable_report(
    visits: FakeClock,
    services: Services,
    cli_env: Settings,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    services.usage.flush()
    target = tmp_path / "report.html"
    assert run(capsys, "--year", "2025", "--format", "html", "--output", str(target))[0] == 0
    html = target.read_text()
    assert html.startswith("<!doctype html>") and "<style>" in html
    assert "<link" not in html and "<script" not in html and "<form" not in html
    assert _cells(html, "Summen je Kanal 2025")["Alle Kanäle"][0] == "7"
    assert "@page" in html and "A4" in html
    english = run(capsys, "--year", "2025", "--format", "html", "--lang", "en")[1]
    assert '<html lang="en">' in english and "Review along the social-media concept" in english


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--year", "20x6"), "four digits"),
        (("--year", "1850"), "from 2000"),
        (("--format", "pdf"), "unknown format"),
        (("--lang", "fr", "--format", "html"), "unknown language"),
        (("--output", "/nonexistent-dir/x.csv"), "/nonexistent-dir/x.csv"),
    ],
)
def test_cli_errors_are_one_line(
    cli_env: Settings, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 1 and out == ""
    assert err.startswith("embedguard: error: ") and message in err
    assert err.count("\n") == 1


def test_cli_default_year_is_the_last_full_one(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--format", "json")
    assert code == 0
    assert json.loads(out)["year"] == datetime.now(UTC).year - 1


def test_revocations_count_per_provider_and_page(
    app: Starlette, services: Services, items: None
) -> None:
    visitor = TestClient(app, follow_redirects=False)
    revoke(visitor, "all", "/consent")  # nothing was allowed: nothing to count
    revoke(visitor, "vimeo", VIDEO_PATH)  # a named provider counts, on its page's item
    revoke(visitor, "vimeo", PAGE_PATH)  # another provider's page: no item
    consent(visitor, "vimeo", "always", VIDEO_PATH)
    consent(visitor, "facebook", "always", PAGE_PATH)
    revoke(visitor, "all", PAGE_PATH)  # both allowed: one each, Facebook's on its item
    services.usage.flush()
    counts = {
        (r["provider"], r["embed_key"]): r["count"]
        for r in services.store.usage()
        if r["event"] == "revoke"
    }
    assert counts == {("vimeo", VIDEO): 1, ("vimeo", ""): 2, ("facebook", PAGE): 1}


def test_csv_defuses_spreadsheet_formulas_in_titles(
    admin: TestClient, clock: FakeClock, services: Services, stored_embed: Callable[..., Embed]
) -> None:
    stored_embed(VIDEO, title='=HYPERLINK("https://evil.example","klick")')
    services.store.add_usage({("vimeo", VIDEO, "view"): 1}, "2025-05-05")
    at(clock, 2026, 1, 2)
    rows = list(csv.reader(io.StringIO(admin.get("/admin/evaluation/2025.csv").text)))
    assert rows[1][3] == '\'=HYPERLINK("https://evil.example","klick")'


def test_chart_scale_is_round_and_bars_fit() -> None:
    assert [charts.nice_ceiling(n) for n in (0, 1, 3, 7, 12, 1234)] == [1, 1, 5, 10, 20, 2000]
    chart = charts.monthly([Counts(views=20, load_once=5)] + [Counts()] * 11)
    tallest = max(chart.bars, key=lambda b: b.height)
    assert (tallest.series, tallest.value, tallest.y) == ("views", 20, charts.TOP)
    assert [t.value for t in chart.ticks] == [0, 10, 20] and chart.peak == 0
    assert all(b.x >= charts.LEFT and b.x + b.width <= chart.right for b in chart.bars)
