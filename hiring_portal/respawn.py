"""Run a command and start it again whenever it ends, until told to stop.

``make run`` wraps each Procfile process in this (honcho stops every process when
one ends): a worker that dies on a broker restart, or a web server that crashes,
comes back after a short wait that grows while it keeps failing, and the rest of
the portal keeps running. SIGTERM or SIGINT is passed on to the command, nothing
is started again, and this exits 0 once the command has ended. Production's supervisor is systemd (deploy/systemd/).

    python -m hiring_portal.respawn 'celery -A hiring_portal worker ...'
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

FIRST_WAIT = 1.0
LONGEST_WAIT = 30.0
# A run this long counts as healthy: the next failure waits FIRST_WAIT again.
HEALTHY_AFTER = 60.0


def run(command: str) -> int:
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    wait = FIRST_WAIT
    while True:
        started = time.monotonic()
        # Through the shell, as honcho runs a Procfile line (${VAR:-default}).
        child = subprocess.Popen(  # noqa: S603 - the Procfile's own command
            ["/bin/sh", "-c", f"exec {command}"]
        )
        code = child.wait()
        if stopping:
            return 0
        wait = FIRST_WAIT if time.monotonic() - started > HEALTHY_AFTER else wait
        print(
            f"respawn: the command ended with exit code {code}; "
            f"starting it again in {wait:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        deadline = time.monotonic() + wait
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if stopping:
            return 0
        wait = min(wait * 2, LONGEST_WAIT)


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m hiring_portal.respawn 'command and args'")
    sys.exit(run(sys.argv[1]))


if __name__ == "__main__":
    main()
