"""``embedguard serve``: run the service."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .. import demo
from ..logconfig import log_config
from ..services import Services
from .common import CommandError, SubParsers, settings_from_env

# Without it, admin snippets would carry whatever Host header a request sent.
PUBLIC_URL_REQUIRED = (
    "EMBEDGUARD_PUBLIC_URL: required, the address visitors use (e.g. https://embed.example.de)"
)


def register(commands: SubParsers) -> None:
    serve = commands.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="throwaway data and offline demo content"
    )
    serve.set_defaults(command=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ..app import create_app

    settings = settings_from_env(demo_mode=args.demo)
    if not args.demo and not settings.public_url:
        raise CommandError(PUBLIC_URL_REQUIRED)
    if args.demo:
        settings = demo.demo_settings(settings, Path(tempfile.mkdtemp(prefix="embedguard-demo-")))
    services = Services.build(settings)
    if args.demo:
        demo.seed(services)
        print(f"embedguard demo: http://{args.host}:{args.port}/demo", file=sys.stderr)
    uvicorn.run(
        create_app(settings, services),
        host=args.host,
        port=args.port,
        proxy_headers=True,
        server_header=False,
        access_log=False,
        log_level="info",
        log_config=log_config(),
    )
    return 0
