"""``python -m feishu.sandbox``: run the fake Feishu in the foreground.

Ctrl-C or SIGTERM (honcho, ``make run``) stops it cleanly.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType

from feishu.sandbox.demo import WORLDS
from feishu.sandbox.server import make_server

DEFAULT_SECRET = "sandbox-secret"  # noqa: S105 (the sandbox's own, not a real one)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m feishu.sandbox",
        description="A fake Feishu Open Platform (token, hire exams, attachments, "
        "tests/search, applications, get_detail, talents/batch_get_id, "
        "job_processes, contact batch_get_id, event pushes). Control: /_sandbox/.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8801, help="0: any free port")
    parser.add_argument(
        "--app-id", default=os.environ.get("FEISHU_APP_ID") or "cli_sandbox"
    )
    parser.add_argument(
        "--app-secret",
        default=os.environ.get("FEISHU_APP_SECRET") or DEFAULT_SECRET,
    )
    parser.add_argument("--token-lifetime", type=float, default=7200)
    parser.add_argument("--token-reuse-threshold", type=float, default=1800)
    parser.add_argument("--no-rate-limit", action="store_true")
    parser.add_argument("--rate-per-second", type=int, default=50)
    parser.add_argument("--rate-per-minute", type=int, default=1000)
    parser.add_argument("--fail-ratio", type=float, default=0.0)
    parser.add_argument("--fail-mode", choices=["before", "after"], default="before")
    parser.add_argument("--drop-ratio", type=float, default=0.0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument(
        "--keepalive-timeout",
        type=float,
        default=30,
        help="seconds an idle kept-alive connection stays open",
    )
    parser.add_argument(
        "--world",
        choices=sorted(WORLDS),
        default="empty",
        help="the candidate world at start-up and after a reset: 'empty' (job "
        "processes and jobs only) or 'demo' (make run's candidates)",
    )
    parser.add_argument(
        "--events-callback",
        metavar="URL",
        default=None,
        help="push Hire events (stage changed, deleted) to this URL, as Feishu does",
    )
    parser.add_argument(
        "--verification-token",
        default="",
        help="the Verification Token the events carry (the portal's)",
    )
    parser.add_argument(
        "--encrypt-key",
        default="",
        help="encrypt and sign the events with this Encrypt Key (the portal's)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = make_server(
        args.host,
        args.port,
        app_id=args.app_id,
        app_secret=args.app_secret,
        keepalive_timeout=args.keepalive_timeout,
        verbose=args.verbose,
        world=args.world,
        events={
            "callback_url": args.events_callback,
            "verification_token": args.verification_token,
            "encrypt_key": args.encrypt_key,
        }
        if args.events_callback
        else None,
        token_lifetime=args.token_lifetime,
        token_reuse_threshold=args.token_reuse_threshold,
        rate_limit=not args.no_rate_limit,
        rate_per_second=args.rate_per_second,
        rate_per_minute=args.rate_per_minute,
        fail_ratio=args.fail_ratio,
        fail_mode=args.fail_mode,
        drop_ratio=args.drop_ratio,
        latency=args.latency,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever, so it must run in another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    rate = (
        "off"
        if args.no_rate_limit
        else f"{args.rate_per_second}/s {args.rate_per_minute}/min"
    )
    # The default secret is the sandbox's own and safe to show; one passed in may
    # have come from a real deployment's environment.
    secret = args.app_secret if args.app_secret == DEFAULT_SECRET else "(as given)"
    print(
        f"Feishu sandbox listening on {server.url} "
        f"app_id={args.app_id} app_secret={secret} (sandbox credentials) "
        f"rate_limit={rate} world={args.world} control={server.url}/_sandbox/",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    print("Feishu sandbox stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
