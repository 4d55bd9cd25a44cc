"""Load benchmark for embedguard's hot visitor paths; run by hand, never by pytest.

    .venv/bin/python bench/load.py [--duration 10] [--connections 64] [--profile placeholder]

Starts `embedguard serve` (uvicorn, one worker, as in production) on 127.0.0.1 on a free
port with a throwaway data dir and one allowed Vimeo video (seeded straight into the store,
poster re-encoded by embedguard's own poster code, no network). Then it measures requests
per second and latency percentiles per scenario with `wrk` when installed, else with a
bounded asyncio load generator, and prints a table. A bare Starlette app serving the
same bytes from memory runs as a baseline, so figures can be read against those in
docs/ARCHITECTURE.md ("Storage and caching") even when the machine is busy. Every run is
bounded in time and request count, targets 127.0.0.1 only, and stops the servers it started.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

HOST = "127.0.0.1"
VIDEO_ID = "76979871"
BENCH_KEY = "bench-signing-key-0123456789abcdef"
START_TIMEOUT = 20.0
MAX_DURATION = 60.0  # seconds per scenario, whatever --duration says
MAX_REQUESTS = 200_000  # per scenario, for the Python load generator
REQUEST_TIMEOUT = 5.0
PROFILE_FILE = "embedguard-bench-profile.txt"  # in the temp dir: py-spy raw stacks


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    status: int = 200
    must_contain: bytes = b""


@dataclass(frozen=True)
class Result:
    name: str
    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    body_bytes: int


# --- the servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def sample_jpeg() -> bytes:
    """A 1280x720 photo-like JPEG (gradient plus soft noise): re-encoded at 1280 px it weighs
    about 67 KB, close to the 70 KB JPEG behind docs/ARCHITECTURE.md's figures."""
    from PIL import Image, ImageFilter

    noise = Image.effect_noise((1280, 720), 30).convert("L").filter(ImageFilter.GaussianBlur(2))
    ramp = Image.linear_gradient("L").resize((1280, 720))
    image = Image.merge("RGB", (ramp, noise, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def seed(data_dir: Path) -> str:
    """One allowed Vimeo video with a real re-encoded poster; returns the poster JPEG's name."""
    from embedguard.services import Services
    from embedguard.settings import Settings
    from embedguard.store import Embed

    services = Services.build(Settings(secret_keys=(BENCH_KEY,), data_dir=data_dir))
    try:
        poster = services.posters.ingest(sample_jpeg())
        services.store.save_embed(
            Embed(
                key=f"vimeo:{VIDEO_ID}",
                provider="vimeo",
                item_id=VIDEO_ID,
                title="Leben und Arbeiten in Mittelsachsen",
                author="Wirtschaftsförderung Mittelsachsen",
                duration=154,
                width=1280,
                height=720,
                poster=poster.to_json(),
            )
        )
    finally:
        services.store.close()
    return poster.filename(poster.widths[-1], "jpg")


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"server at {base} did not start:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def running(command: list[str], env: Mapping[str, str], port: int, tmp: Path) -> Iterator[int]:
    """Run a server process; yield its pid; always stop it."""
    log = tmp / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            wait_healthy(f"http://{HOST}:{port}", proc, log)
            yield proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def embedguard_command(port: int) -> list[str]:
    return [sys.executable, "-m", "embedguard", "serve", "--host", HOST, "--port", str(port)]


def baseline_command(port: int, page: Path, jpeg: Path) -> list[str]:
    return [sys.executable, __file__, "--serve-baseline", str(port), str(page), str(jpeg)]


def serve_baseline(port: int, page_file: Path, jpeg_file: Path) -> None:
    """Starlette returning the same bytes from memory (docs/ARCHITECTURE.md), to calibrate."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    page, jpeg = page_file.read_bytes(), jpeg_file.read_bytes()

    async def html(request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8")

    async def image(request: Request) -> Response:
        return Response(jpeg, media_type="image/jpeg")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[Route("/page", html), Route("/jpeg", image), Route("/healthz", healthz)]
    )
    uvicorn.run(app, host=HOST, port=port, access_log=False, log_level="warning")


# --- the scenarios ---------------------------------------------------------------------------


def scenarios(base: str, poster: str) -> list[Scenario]:
    """Look the dynamic parts up once (ETag, CSS URL, consent cookie), then fix the list."""
    page = f"/vimeo/{VIDEO_ID}"
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT, follow_redirects=False) as client:
        first = client.get(page)
        first.raise_for_status()
        etag = first.headers["etag"]
        css = re.search(rb'href="(/static/embedguard\.css\?v=[0-9a-f]+)"', first.content)
        if css is None:
            raise SystemExit("no stylesheet link in the placeholder page")
        consent = client.post(
            "/consent", data={"provider": "vimeo", "scope": "always", "next": page}
        )
        cookie = consent.cookies.get("eg_consent")
        if consent.status_code != 303 or not cookie:
            raise SystemExit(f"POST /consent gave {consent.status_code} and no cookie")
    return [
        Scenario("placeholder", page, must_contain=b'value="once"'),
        Scenario("placeholder 304", page, {"If-None-Match": etag}, status=304),
        Scenario("poster jpeg", f"/posters/{poster}"),
        Scenario("css", css.group(1).decode()),
        Scenario(
            "loaded (cookie)",
            page,
            {"Cookie": f"eg_consent={cookie}"},
            must_contain=b"player.vimeo.com/video/",
        ),
    ]


def baseline_scenarios() -> list[Scenario]:
    return [
        Scenario("baseline: bytes page", "/page"),
        Scenario("baseline: bytes jpeg", "/jpeg"),
    ]


def check(base: str, scenario: Scenario) -> int:
    """One request first: a benchmark of 404s or of the wrong page is worthless."""
    response = httpx.get(base + scenario.path, headers=dict(scenario.headers), timeout=5.0)
    if response.status_code != scenario.status or scenario.must_contain not in response.content:
        raise SystemExit(
            f"{scenario.name}: got {response.status_code}, expected {scenario.status}"
            f"{' and ' + scenario.must_contain.decode() if scenario.must_contain else ''}"
        )
    return len(response.content)


# --- load generators -------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_load(
    url: str, headers: Mapping[str, str], seconds: float, connections: int, threads: int
) -> tuple[int, float, float, float, float, int]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    command += ["--timeout", f"{REQUEST_TIMEOUT:g}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    requests = int(_find(r"(\d+) requests in", output))
    rps = float(_find(r"Requests/sec:\s+([\d.]+)", output))
    pct = {
        p: float(v) * _UNITS[u]
        for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    }
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|timeout) (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write) (\d+)", output))
    return requests, rps, pct["50"], pct["90"], pct["99"], errors


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise SystemExit(f"unexpected wrk output:\n{text}")
    return match.group(1)


async def python_load(
    url: str, headers: Mapping[str, str], status: int, seconds: float, connections: int
) -> tuple[int, float, float, float, float, int]:
    """Keep-alive GETs over plain asyncio streams, bounded by MAX_REQUESTS and `seconds`.

    Much lighter than an HTTP client library, yet still Python competing with the server
    for the same cores: read its figures as lower bounds.
    """
    parts = urlsplit(url)
    if parts.hostname != HOST or parts.port is None:
        raise SystemExit(f"refusing to load anything but {HOST}: {url}")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", *_header_lines(headers)]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(HOST, parts.port)
        try:
            while len(latencies) + errors < MAX_REQUESTS and time.monotonic() < deadline:
                started = time.perf_counter()
                writer.write(request)
                got = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT)
                if got == status:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    if not latencies:
        return 0, 0.0, 0.0, 0.0, 0.0, errors

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))]

    done = len(latencies) + errors
    return done, done / elapsed, pct(0.50), pct(0.90), pct(0.99), errors


def _header_lines(headers: Mapping[str, str]) -> list[str]:
    return [f"{name}: {value}" for name, value in headers.items()]


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (status line, headers, Content-Length body); return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return int(status_line.split()[1])


def measure(base: str, scenario: Scenario, args: argparse.Namespace) -> Result:
    body = check(base, scenario)
    url = base + scenario.path
    seconds = min(args.duration, MAX_DURATION)
    if args.tool == "wrk":
        wrk_load(url, scenario.headers, min(args.warmup, MAX_DURATION), args.connections, 1)
        numbers = wrk_load(url, scenario.headers, seconds, args.connections, args.threads)
    else:
        asyncio.run(python_load(url, scenario.headers, scenario.status, args.warmup, 8))
        numbers = asyncio.run(
            python_load(url, scenario.headers, scenario.status, seconds, args.connections)
        )
    requests, rps, p50, p90, p99, errors = numbers
    return Result(scenario.name, args.tool, requests, seconds, rps, p50, p90, p99, errors, body)


# --- profiling -------------------------------------------------------------------------------


def profile(pid: int, base: str, scenario: Scenario, args: argparse.Namespace, out: Path) -> None:
    """Sample the server with py-spy while the scenario runs; print where the time goes."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("profile: py-spy not found (pip install py-spy); skipped", file=sys.stderr)
        return
    seconds = min(args.duration, MAX_DURATION)
    command = [py_spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(out)]
    command += ["--duration", f"{int(seconds) + 1}", "--rate", "200"]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as spy:
        time.sleep(0.5)
        measure(base, scenario, args)
        try:
            spy.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            spy.kill()
    if not out.exists():
        print("profile: py-spy wrote nothing (needs root or ptrace rights)", file=sys.stderr)
        return
    print(f"\nprofile of {scenario.name!r} (py-spy; share of busy samples; raw stacks: {out})")
    self_time, ours = top_frames(out.read_text(), args.profile_top)
    print("self time (the frame itself was running):")
    for share, frame in self_time:
        print(f"  {share:6.1%}  {frame}")
    print("inclusive, embedguard / sqlite / jinja / itsdangerous frames only:")
    for share, frame in ours:
        print(f"  {share:6.1%}  {frame}")


_OURS = ("embedguard/", "sqlite", "jinja2/", "itsdangerous/")


def top_frames(
    collapsed: str, limit: int
) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """Self and inclusive shares per frame from py-spy's collapsed stacks (idle loop left out)."""
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        if not stack or not count_text.isdigit() or "select (selectors.py" in frames[-1]:
            continue
        count = int(count_text)
        total += count
        self_time[frames[-1]] += count
        for frame in set(frames):
            if any(part in frame for part in _OURS) and "__main__" not in frame:
                inclusive[frame] += count
    if not total:
        return [], []
    inclusive_top = [
        (n / total, f) for f, n in inclusive.most_common() if not f.startswith(("main ", "_serve "))
    ]
    return (
        [(n / total, frame) for frame, n in self_time.most_common(limit)],
        inclusive_top[:limit],
    )


# --- main ------------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    header = (
        f"{'scenario':<22} {'tool':<6} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} "
        f"{'p99 ms':>8} {'requests':>9} {'errors':>7} {'body B':>8}"
    )
    rows = [header, "-" * len(header)]
    for r in results:
        rows.append(
            f"{r.name:<22} {r.tool:<6} {r.rps:>9,.0f} {r.p50_ms:>8.2f} {r.p90_ms:>8.2f} "
            f"{r.p99_ms:>8.2f} {r.requests:>9,} {r.errors:>7} {r.body_bytes:>8,}"
        )
    return "\n".join(rows)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up each")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--only", action="append", help="run only scenarios with this prefix")
    parser.add_argument("--no-baseline", action="store_true", help="skip the Starlette baseline")
    parser.add_argument("--profile", metavar="SCENARIO", help="py-spy the server during it")
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--serve-baseline", nargs=3, metavar=("PORT", "PAGE", "JPEG"))
    args = parser.parse_args(argv)
    if args.tool == "auto":
        args.tool = "wrk" if shutil.which("wrk") else "python"
    if not 1 <= args.connections <= 1024 or args.duration <= 0:
        parser.error("connections must be 1..1024 and duration positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_baseline:
        port, page, jpeg = args.serve_baseline
        serve_baseline(int(port), Path(page), Path(jpeg))
        return 0
    if args.tool == "python":
        print("wrk not found: using the Python load generator (slower client)", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="embedguard-bench-") as tmp_name:
        tmp = Path(tmp_name)
        data_dir = tmp / "data"
        poster = seed(data_dir)
        port = free_port()
        base = f"http://{HOST}:{port}"
        env = {"EMBEDGUARD_SECRET_KEYS": BENCH_KEY, "EMBEDGUARD_DATA_DIR": str(data_dir)}
        results: list[Result] = []
        with running(embedguard_command(port), env, port, tmp) as pid:
            chosen = [
                s
                for s in scenarios(base, poster)
                if not args.only or any(s.name.startswith(p) for p in args.only)
            ]
            for scenario in chosen:
                results.append(measure(base, scenario, args))
                print(table(results[-1:]).splitlines()[-1], file=sys.stderr)
            if args.profile:
                named = [s for s in chosen if s.name == args.profile]
                if not named:
                    raise SystemExit(f"no scenario named {args.profile!r}")
                profile(pid, base, named[0], args, Path(tempfile.gettempdir()) / PROFILE_FILE)
            page_bytes = httpx.get(f"{base}/vimeo/{VIDEO_ID}").content
        if not args.no_baseline:
            (tmp / "page.html").write_bytes(page_bytes)
            jpeg = data_dir / "posters" / poster
            port = free_port()
            base = f"http://{HOST}:{port}"
            with running(baseline_command(port, tmp / "page.html", jpeg), {}, port, tmp):
                for scenario in baseline_scenarios():
                    results.append(measure(base, scenario, args))
    print(
        f"\nembedguard load benchmark: {args.tool}, {args.connections} connections, "
        f"{min(args.duration, MAX_DURATION):g} s per scenario, {os.cpu_count()} CPUs"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
