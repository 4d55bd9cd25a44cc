"""Load benchmark for embedguard's hot visitor paths; run by hand, never by pytest.

    .venv/bin/python bench/load.py [--duration 10] [--connections 64] [--profile placeholder]

Starts `embedguard serve` (as in production) on 127.0.0.1 on a free port with a throwaway
data dir and one allowed Vimeo video (seeded straight into the store, poster re-encoded by
embedguard's own poster code, no network), and next to it the floor: a bare Starlette app
returning, from memory, the very bytes embedguard answered for each scenario. Then, in
interleaved rounds, it measures each scenario on embedguard and on the floor (`wrk` when
installed, else a bounded asyncio load generator) and prints round medians and the ratio
to the floor: on a busy machine both move together, so the ratio is what to compare.
Every run is bounded in time and request count, targets 127.0.0.1 only, and stops the
servers it started.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import io
import json
import os
import re
import shutil
import socket
import statistics
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
class Captured:
    """One answer as sent on the wire: the floor serves exactly these bytes."""

    status: int
    content_type: str
    content_encoding: str
    body: bytes


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
    cpu_us: float = 0.0  # server CPU time (user + system) per request, microseconds


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


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> float:
    """Seconds from now until /healthz answers 200 (the start-up time when called at once)."""
    started = time.monotonic()
    deadline = started + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return time.monotonic() - started
        time.sleep(0.01)
    raise SystemExit(f"server at {base} did not start:\n{log.read_text(errors='replace')}")


@dataclass
class Server:
    base: str
    pid: int
    startup_seconds: float


@contextlib.contextmanager
def running(command: list[str], env: Mapping[str, str], port: int, tmp: Path) -> Iterator[Server]:
    """Run a server process; always stop it."""
    log = tmp / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://{HOST}:{port}"
            yield Server(base, proc.pid, wait_healthy(base, proc, log))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def rss_mb(pid: int) -> list[float]:
    """Resident memory of a server and of each of its worker processes, in MB."""
    pids = [pid, *_children(pid)]
    sizes = []
    for each in pids:
        status = Path(f"/proc/{each}/status").read_text()
        sizes.append(int(_find(r"VmRSS:\s+(\d+) kB", status)) / 1024)
    return sizes


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if f"\nPPid:\t{pid}\n" in (entry / "status").read_text():
                    cmdline = (entry / "cmdline").read_bytes()
                    if b"resource_tracker" not in cmdline:
                        found.append(int(entry.name))
    return found


def embedguard_command(port: int, workers: int, h11: bool = False) -> list[str]:
    if h11:  # the alternative to embedguard's own protocol: h11 with its header size cap
        command = [sys.executable, "-m", "uvicorn", "--factory", "embedguard.asgi:create"]
        command += ["--http", "h11", "--h11-max-incomplete-event-size", str(16 * 1024)]
        return [*command, "--no-access-log", "--host", HOST, "--port", str(port)]
    command = [sys.executable, "-m", "embedguard", "serve", "--host", HOST, "--port", str(port)]
    return [*command, "--workers", str(workers)] if workers > 1 else command


def floor_command(port: int, manifest: Path) -> list[str]:
    return [sys.executable, __file__, "--serve-floor", str(port), str(manifest)]


def serve_floor(port: int, manifest_file: Path) -> None:
    """the "Starlette returning the same bytes from memory", per scenario."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    def endpoint(entry: dict[str, str | int]) -> Route:
        body = Path(str(entry["file"])).read_bytes()
        status, media_type = int(entry["status"]), str(entry["content_type"]) or None
        extra = {"content-encoding": str(entry["content_encoding"])}
        headers = extra if entry["content_encoding"] else None

        async def answer(request: Request) -> Response:
            return Response(body, status, headers=headers, media_type=media_type)

        return Route(str(entry["path"]), answer)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    entries = json.loads(manifest_file.read_text())
    app = Starlette(routes=[*(endpoint(e) for e in entries), Route("/healthz", healthz)])
    uvicorn.run(app, host=HOST, port=port, access_log=False, log_level="warning")


# --- the scenarios ---------------------------------------------------------------------------

BROWSER_ENCODING = {"Accept-Encoding": "gzip, deflate, br"}


def scenarios(base: str, poster: str) -> list[Scenario]:
    """Look the dynamic parts up once (ETag, CSS URL, consent cookie), then fix the list."""
    page = f"/vimeo/{VIDEO_ID}"
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT, follow_redirects=False) as client:
        first = client.get(page, headers={"Accept-Encoding": "identity"})
        first.raise_for_status()
        etag = first.headers["etag"]
        css = re.search(rb'href="(/static/embed\.css\?v=[0-9a-f]+)"', first.content)
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
        Scenario("placeholder br", page, BROWSER_ENCODING),
        Scenario("poster jpeg", f"/posters/{poster}"),
        Scenario("css", css.group(1).decode()),
        Scenario("css br", css.group(1).decode(), BROWSER_ENCODING),
        Scenario(
            "loaded (cookie)",
            page,
            {"Cookie": f"eg_consent={cookie}"},
            must_contain=b"player.vimeo.com/video/",
        ),
    ]


def capture(base: str, scenario: Scenario) -> Captured:
    """One request first: a benchmark of 404s or of the wrong page is worthless."""
    headers = {"Accept-Encoding": "identity", **scenario.headers}
    with httpx.stream("GET", base + scenario.path, headers=headers, timeout=5.0) as response:
        raw = b"".join(response.iter_raw())
        captured = Captured(
            response.status_code,
            response.headers.get("content-type", ""),
            response.headers.get("content-encoding", ""),
            raw,
        )
    plain = httpx.get(base + scenario.path, headers=dict(scenario.headers), timeout=5.0)
    if captured.status != scenario.status or scenario.must_contain not in plain.content:
        raise SystemExit(
            f"{scenario.name}: got {captured.status}, expected {scenario.status}"
            f"{' and ' + scenario.must_contain.decode() if scenario.must_contain else ''}"
        )
    return captured


def floor_manifest(captured: list[tuple[Scenario, Captured]], tmp: Path) -> Path:
    entries = []
    for index, (scenario, answer) in enumerate(captured):
        body_file = tmp / f"floor-{index}.bin"
        body_file.write_bytes(answer.body)
        entries.append(
            {
                "path": f"/floor/{index}",
                "status": answer.status,
                "content_type": answer.content_type if answer.status != 304 else "",
                "content_encoding": answer.content_encoding,
                "file": str(body_file),
                "name": scenario.name,
            }
        )
    manifest = tmp / "floor.json"
    manifest.write_text(json.dumps(entries))
    return manifest


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


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a server and its workers have used so far."""
    ticks = 0
    for each in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(
    base: str, scenario: Scenario, args: argparse.Namespace, path: str = "", pid: int = 0
) -> Result:
    url = base + (path or scenario.path)
    seconds = min(args.duration, MAX_DURATION)
    if args.tool == "wrk" and args.warmup > 0:
        wrk_load(url, scenario.headers, min(args.warmup, MAX_DURATION), args.connections, 1)
    if args.tool == "python" and args.warmup > 0:
        asyncio.run(python_load(url, scenario.headers, scenario.status, args.warmup, 8))
    cpu_before = cpu_seconds(pid) if pid else 0.0
    if args.tool == "wrk":
        numbers = wrk_load(url, scenario.headers, seconds, args.connections, args.threads)
    else:
        numbers = asyncio.run(
            python_load(url, scenario.headers, scenario.status, seconds, args.connections)
        )
    cpu = (cpu_seconds(pid) - cpu_before) if pid else 0.0
    requests, rps, p50, p90, p99, errors = numbers
    cpu_us = cpu / requests * 1e6 if requests else 0.0
    return Result(
        scenario.name, args.tool, requests, seconds, rps, p50, p90, p99, errors, 0, cpu_us
    )


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


@dataclass
class Row:
    name: str
    body_bytes: int
    ours: list[Result] = field(default_factory=list)
    floor: list[Result] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [o.rps / f.rps for o, f in zip(self.ours, self.floor, strict=True) if f.rps]

    def cpu_ratios(self) -> list[float]:
        """Floor CPU per request over ours: the throughput ratio when CPU-bound, and far
        steadier than req/s while other processes compete for the cores."""
        pairs = zip(self.ours, self.floor, strict=True)
        return [f.cpu_us / o.cpu_us for o, f in pairs if o.cpu_us and f.cpu_us]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def table(rows: list[Row]) -> str:
    header = (
        f"{'scenario':<18} {'bytes':>7} {'req/s':>8} {'floor':>8} {'ratio':>6} "
        f"{'CPU us':>7} {'floor':>6} {'ratio':>6} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'floor p99':>9} {'errors':>6}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.name:<18} {row.body_bytes:>7,} {_median([r.rps for r in row.ours]):>8,.0f} "
            f"{_median([r.rps for r in row.floor]):>8,.0f} {_median(row.ratios()):>6.2f} "
            f"{_median([r.cpu_us for r in row.ours]):>7.0f} "
            f"{_median([r.cpu_us for r in row.floor]):>6.0f} {_median(row.cpu_ratios()):>6.2f} "
            f"{_median([r.p50_ms for r in row.ours]):>7.2f} "
            f"{_median([r.p99_ms for r in row.ours]):>7.2f} "
            f"{_median([r.p99_ms for r in row.floor]):>9.2f} "
            f"{sum(r.errors for r in row.ours):>6}"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up each")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved pairs (medians)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--only", action="append", help="run only scenarios with this prefix")
    parser.add_argument("--workers", type=int, default=1, help="embedguard serve --workers")
    parser.add_argument("--h11", action="store_true", help="uvicorn with h11 instead of serve")
    parser.add_argument(
        "--scaling", action="store_true", help="placeholder: 2 workers against 1, interleaved"
    )
    parser.add_argument(
        "--soak", type=float, metavar="SECONDS", help="placeholder at 256 connections, errors"
    )
    parser.add_argument("--profile", metavar="SCENARIO", help="py-spy the server during it")
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--serve-floor", nargs=2, metavar=("PORT", "MANIFEST"))
    args = parser.parse_args(argv)
    if args.tool == "auto":
        args.tool = "wrk" if shutil.which("wrk") else "python"
    if not 1 <= args.connections <= 1024 or args.duration <= 0 or not 1 <= args.rounds <= 20:
        parser.error("connections must be 1..1024, duration positive, rounds 1..20")
    return args


def compare_with_floor(
    ours: Server, chosen: list[Scenario], args: argparse.Namespace, tmp: Path
) -> list[Row]:
    captured = [(s, capture(ours.base, s)) for s in chosen]
    manifest = floor_manifest(captured, tmp)
    rows = [Row(s.name, len(c.body)) for s, c in captured]
    port = free_port()
    with running(floor_command(port, manifest), {}, port, tmp) as floor:
        # Pairs back to back, per scenario: a load spike from elsewhere on the machine then
        # hits both sides of a pair alike, and the median of the pair ratios stays put.
        for index, (scenario, _) in enumerate(captured):
            for pair in range(args.rounds):
                warm = args if pair == 0 else argparse.Namespace(**{**vars(args), "warmup": 0})
                rows[index].ours.append(measure(ours.base, scenario, warm, pid=ours.pid))
                rows[index].floor.append(
                    measure(floor.base, scenario, warm, f"/floor/{index}", floor.pid)
                )
                print(
                    f"{scenario.name} pair {pair + 1}: {rows[index].ours[-1].rps:,.0f} "
                    f"vs floor {rows[index].floor[-1].rps:,.0f}",
                    file=sys.stderr,
                )
    return rows


def scaling(env: Mapping[str, str], chosen: Scenario, args: argparse.Namespace, tmp: Path) -> str:
    one, two = free_port(), free_port()
    results: dict[int, list[Result]] = {1: [], 2: []}
    with (
        running(embedguard_command(one, 1), env, one, tmp) as single,
        running(embedguard_command(two, 2), env, two, tmp) as double,
    ):
        for _ in range(args.rounds):
            results[1].append(measure(single.base, chosen, args, pid=single.pid))
            results[2].append(measure(double.base, chosen, args, pid=double.pid))
    pairs = zip(results[1], results[2], strict=True)
    ratios = [b.rps / a.rps for a, b in pairs if a.rps]
    rps = {n: _median([r.rps for r in found]) for n, found in results.items()}
    cpu = {n: _median([r.cpu_us for r in found]) for n, found in results.items()}
    return (
        f"{chosen.name}: 1 worker {rps[1]:,.0f} req/s ({cpu[1]:.0f} us CPU each), 2 workers "
        f"{rps[2]:,.0f} req/s ({cpu[2]:.0f} us CPU each), ratio {_median(ratios):.2f} "
        f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_floor:
        port, manifest = args.serve_floor
        serve_floor(int(port), Path(manifest))
        return 0
    if args.tool == "python":
        print("wrk not found: using the Python load generator (slower client)", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="embedguard-bench-") as tmp_name:
        tmp = Path(tmp_name)
        data_dir = tmp / "data"
        poster = seed(data_dir)
        env = {
            "EMBEDGUARD_SECRET_KEYS": BENCH_KEY,
            "EMBEDGUARD_DATA_DIR": str(data_dir),
            "EMBEDGUARD_PUBLIC_URL": f"http://{HOST}",
        }
        port = free_port()
        command = embedguard_command(port, args.workers, args.h11)
        with running(command, env, port, tmp) as ours:
            chosen = [
                s
                for s in scenarios(ours.base, poster)
                if not args.only or any(s.name.startswith(p) for p in args.only)
            ]
            for scenario in chosen:  # once each, so every cache is filled
                capture(ours.base, scenario)
            rest = rss_mb(ours.pid)
            if args.soak:
                soak = argparse.Namespace(**{**vars(args), "connections": 256, "warmup": 1.0})
                soak.duration = min(args.soak, MAX_DURATION)
                result = measure(ours.base, chosen[0], soak)
                print(
                    f"\nsoak: {chosen[0].name}, 256 connections, {soak.duration:g} s: "
                    f"{result.requests:,} requests, {result.rps:,.0f} req/s, "
                    f"p99 {result.p99_ms:.1f} ms, {result.errors} errors"
                )
                return 0
            if args.scaling:
                summary = scaling(env, chosen[0], args, tmp)
                print(f"\nworker scaling ({os.cpu_count()} CPUs, {args.tool}): {summary}")
                return 0
            rows = compare_with_floor(ours, chosen, args, tmp)
            if args.profile:
                named = [s for s in chosen if s.name == args.profile]
                if not named:
                    raise SystemExit(f"no scenario named {args.profile!r}")
                out = Path(tempfile.gettempdir()) / PROFILE_FILE
                profile(ours.pid, ours.base, named[0], args, out)
            loaded = rss_mb(ours.pid)
    print(
        f"\nembedguard load benchmark: {args.tool}, {args.connections} connections, "
        f"{min(args.duration, MAX_DURATION):g} s per measurement, {args.rounds} back-to-back "
        f"pairs with the floor (medians), {os.cpu_count()} CPUs, {args.workers} worker(s)"
    )
    print(table(rows))
    print(
        f"start-up {ours.startup_seconds:.2f} s (process start to /healthz 200); RSS MB at "
        f"rest {', '.join(f'{m:.1f}' for m in rest)}; after the run "
        f"{', '.join(f'{m:.1f}' for m in loaded)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
