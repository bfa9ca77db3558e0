"""The systemd units in deploy/systemd: one per Procfile process (the sandbox
aside), each restarting what dies, running the Procfile's own command, and valid
as systemd reads them (``systemd-analyze verify``, against this checkout's
virtualenv; any warning fails)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.embedded

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED_AT = "/opt/hiring_portal"
PROCESSES = {  # Procfile process -> its unit
    "web": "hiring-portal-web.service",
    "worker": "hiring-portal-worker@.service",
    "beat": "hiring-portal-beat.service",
    "events": "hiring-portal-events.service",
}


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(UNITS / name)
    return parser


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


@pytest.mark.parametrize("process", PROCESSES)
def test_each_process_has_a_unit_that_restarts_it_and_runs_the_procfile_command(
    process,
):
    service = unit(PROCESSES[process])
    assert service["Service"]["Restart"] == "always"
    assert service["Install"]["WantedBy"] == "hiring-portal.target"
    assert service["Service"]["EnvironmentFile"] == "/etc/hiring-portal/env"
    # The Procfile's command, with its ${VAR:-default} given by Environment= here.
    command = re.sub(r"\$\{(\w+):-[^}]*\}", r"${\1}", procfile()[process])
    program, _, arguments = command.partition(" ")
    exec_start = service["Service"]["ExecStart"]
    assert exec_start.startswith(f"{INSTALLED_AT}/.venv/bin/{program} {arguments}")
    for variable in re.findall(r"\$\{(\w+)\}", command):
        defaults = service["Service"].get("Environment", "")
        assert f"{variable}=" in defaults or variable.startswith("FEISHU_"), variable


def test_the_units_are_valid_as_systemd_reads_them(tmp_path):
    systemd_analyze = shutil.which("systemd-analyze")
    if systemd_analyze is None:
        pytest.skip("systemd-analyze is missing: apt-get install systemd")
    for path in UNITS.iterdir():
        text = path.read_text().replace(INSTALLED_AT, str(ROOT))
        (tmp_path / path.name).write_text(text)
    names = [p.name.replace("@.", "@1.") for p in sorted(tmp_path.iterdir())]
    checked = subprocess.run(
        [systemd_analyze, "verify", "--man=no", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == "", checked.stderr
