"""``embedguard serve``: run the service."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .. import demo
from ..services import Services
from .common import CommandError, SubParsers, settings_from_env

ASGI_FACTORY = "embedguard.asgi:create"
MAX_WORKERS = 64
# Without it, admin snippets carry the address (Host header) of each admin request. The
# service still starts, as the settings table promises ("from the request"), but says so.
PUBLIC_URL_WARNING = (
    "EMBEDGUARD_PUBLIC_URL is not set: admin snippets use the address of each admin request;"
    " set it to the address visitors use (e.g. https://embed.example.de)"
)


def register(commands: SubParsers) -> None:
    serve = commands.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="throwaway data and offline demo content"
    )
    serve.add_argument(
        "--workers", type=_workers, default=1, help="worker processes on one port (default 1)"
    )
    serve.set_defaults(command=_serve)


def _workers(value: str) -> int:
    try:
        workers = int(value)
    except ValueError:
        workers = 0
    if not 1 <= workers <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_WORKERS}")
    return workers


def _serve(args: argparse.Namespace) -> int:
    from .. import server
    from ..app import create_app

    if args.demo and args.workers > 1:
        raise CommandError("--demo runs one worker: its data directory and key are throwaway")
    settings = settings_from_env(demo_mode=args.demo)
    if not args.demo and not settings.public_url:
        print(f"embedguard: warning: {PUBLIC_URL_WARNING}", file=sys.stderr)
    if args.workers > 1:
        # Each worker builds its own app from the same environment (checked just now).
        server.serve(
            ASGI_FACTORY, host=args.host, port=args.port, workers=args.workers, factory=True
        )
        return 0
    if args.demo:
        settings = demo.demo_settings(settings, Path(tempfile.mkdtemp(prefix="embedguard-demo-")))
    services = Services.build(settings)
    if args.demo:
        demo.seed(services)
        print(f"embedguard demo: http://{args.host}:{args.port}/demo", file=sys.stderr)
    server.serve(create_app(settings, services), host=args.host, port=args.port)
    return 0
