"""Start a Celery worker (and beat) as processes of their own, for tests, benchmarks
and scripts: the Celery counterpart of ``feishu/sandbox/process.py``.

The caller owns the environment (database, broker, Feishu app, settings module):
what differs between a test, a benchmark and a "machine" of its own is exactly
that. Here is only what they share: the command line, a log file a process, waiting
for the worker to say it is ready, and stopping it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The queues a deployment's workers consume (docs/deploy.md, Procfile).
QUEUES = "feishu,celery"
CELERY = (sys.executable, "-m", "celery", "-A", "hiring_portal")

Popen = Callable[..., "subprocess.Popen[Any]"]


def children_of(pid: int) -> list[int]:
    """The ids of a process's children (a worker's pool processes)."""
    out = subprocess.run(  # noqa: S603 - a fixed command and a number
        ["ps", "-o", "pid=", "--ppid", str(pid)],  # noqa: S607 - procps, from PATH
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [int(p) for p in out.split()]


@dataclass
class CeleryProcess:
    """A worker or beat started here, with the file its output goes to."""

    proc: subprocess.Popen[Any]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def children(self) -> list[int]:
        return children_of(self.proc.pid)

    def output(self, tail: int = 5000) -> str:
        return self.log.read_text(errors="replace")[-tail:]

    def wait_ready(self, timeout: float = 60) -> None:
        """Return once the worker logs that it is ready (consuming its queues);
        raise with its last output if it exits or takes longer than ``timeout``."""
        deadline = time.monotonic() + timeout
        while "ready." not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.output(3000)}")
            time.sleep(0.2)

    def kill(self) -> None:
        """At once (SIGKILL), its pool's processes too: for a test that is over,
        where a warm shutdown would only cost time (2.4 s for an idle worker on
        Redis, 4-8 s on the filesystem broker, measured here)."""
        for pid in [*self.children(), self.proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 15) -> None:
        """Warm shutdown (SIGTERM: tasks running finish), then SIGKILL."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _start(
    command: list[str],
    *,
    log: Path,
    env: Mapping[str, str],
    cwd: Path,
    popen: Popen,
) -> CeleryProcess:
    with log.open("wb") as handle:
        proc = popen(
            command,
            cwd=cwd,
            env=dict(env),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    return CeleryProcess(proc, log)


def start_worker(
    *,
    name: str,
    log: Path,
    env: Mapping[str, str],
    concurrency: int = 2,
    beat_schedule: Path | None = None,
    cwd: Path = ROOT,
    popen: Popen = subprocess.Popen,
) -> CeleryProcess:
    """``celery worker`` on the deployment's queues, hostname ``name@%h``, output
    to ``log``. With ``beat_schedule`` the worker also runs beat (``--beat``), as a
    single machine would. Returns at once: call ``wait_ready()``.

    ``popen`` starts the process (e.g. a caller's registry of what it started)."""
    command = [
        *CELERY,
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        "--queues",
        QUEUES,
        "--hostname",
        f"{name}@%h",
        # Nothing to learn from other workers at start-up; starts faster.
        "--without-gossip",
        "--without-mingle",
    ]
    if beat_schedule is not None:
        command += ["--beat", "--schedule", str(beat_schedule)]
    return _start(command, log=log, env=env, cwd=cwd, popen=popen)


def start_beat(
    *,
    log: Path,
    env: Mapping[str, str],
    schedule: Path,
    pidfile: Path | None = None,
    cwd: Path = ROOT,
    popen: Popen = subprocess.Popen,
) -> CeleryProcess:
    """``celery beat`` in a process of its own, as in production: killing a
    worker's pool children must not take the sweeper with them."""
    command = [*CELERY, "beat", "--loglevel", "INFO", "--schedule", str(schedule)]
    if pidfile is not None:
        command += ["--pidfile", str(pidfile)]
    return _start(command, log=log, env=env, cwd=cwd, popen=popen)
