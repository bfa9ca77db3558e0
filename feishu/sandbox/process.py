"""Start the sandbox as a process of its own, for tests, benchmarks and scripts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def spawn(
    *extra: str,
    app_id: str = "cli_sandbox",
    app_secret: str = "sandbox-secret",  # noqa: S107 - the sandbox's own fake secret
    host: str = "127.0.0.1",
    popen: Callable[..., subprocess.Popen[Any]] = subprocess.Popen,
    **popen_kwargs: Any,
) -> tuple[subprocess.Popen[Any], str]:
    """Run ``python -m feishu.sandbox`` on a free port; return the process and the
    URL from its start-up line. ``extra`` are more command-line flags."""
    popen_kwargs.setdefault("cwd", ROOT)
    proc = popen(
        [
            sys.executable,
            "-m",
            "feishu.sandbox",
            "--host",
            host,
            "--port",
            "0",
            "--app-id",
            app_id,
            "--app-secret",
            app_secret,
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
        **popen_kwargs,
    )
    if proc.stdout is None:
        proc.kill()
        raise RuntimeError("the sandbox's output must be a pipe (stdout=PIPE)")
    line = proc.stdout.readline()
    urls = [word for word in line.split() if word.startswith("http://")]
    if not urls:
        proc.kill()
        raise RuntimeError(f"the sandbox did not start: {line!r}")
    # The start-up line travels with the process: callers show it, tests check it.
    proc.startup_line = line  # type: ignore[attr-defined]  # an attribute Popen lacks
    return proc, urls[0]
