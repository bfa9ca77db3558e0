"""``make run``'s supervision: a process that ends is started again, the others
untouched; a stop (SIGTERM) reaches the process and nothing is started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.embedded

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import os, pathlib, sys, time
runs = pathlib.Path(sys.argv[1])
done = runs.read_text().count("\\n") if runs.exists() else 0
with runs.open("a") as out:
    out.write(f"{os.getpid()}\\n")
if done == 0:
    sys.exit(3)  # the first run dies
time.sleep(60)
"""


def wait_for(condition, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_process_that_dies_is_started_again_until_stopped(tmp_path):
    script = tmp_path / "flaky.py"
    script.write_text(SCRIPT)
    runs = tmp_path / "runs"
    supervisor = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hiring_portal.respawn",
            f"{sys.executable} {script} {runs}",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: runs.exists() and len(runs.read_text().split()) == 2)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=10) == 0
    second = int(runs.read_text().split()[1])
    with pytest.raises(ProcessLookupError):
        os.kill(second, 0)  # the stop reached the running command
    assert "exit code 3; starting it again in 1 s" in supervisor.stderr.read()
    time.sleep(1.5)
    assert len(runs.read_text().split()) == 2  # nothing started after the stop
