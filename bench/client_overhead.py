"""Client overhead: this project's FeishuClient vs the official SDK (lark-oapi).

Both call ``POST /open-apis/hire/v1/exams`` on the sandbox, which runs in its own
process with the rate limit off, in alternating rounds of N calls. Printed: the
medians over rounds of client CPU per call (``time.process_time`` of this process,
which runs only the client) and of calls/s, and their ratios.

Goal (issue 3): CPU per call <= 0.6x the SDK's, calls/s >= 1.3x.

    .venv/bin/python bench/client_overhead.py [--rounds 5] [--calls 500]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import lark_oapi as lark  # noqa: E402
from lark_oapi.api.hire.v1 import (  # noqa: E402
    CreateExamRequest,
    CreateExamRequestBody,
)

from feishu import FeishuClient, MemoryTokenStore  # noqa: E402

APP_ID = "cli_bench"
APP_SECRET = "bench-secret"  # noqa: S105 (the sandbox's, not a real one)
APPLICATION_ID = "6891565253964859661"
OPERATOR = "ou_f476cb099ac9227c9bae09ce46112579"


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feishu.sandbox",
            "--port",
            "0",
            "--no-rate-limit",
            "--app-id",
            APP_ID,
            "--app-secret",
            APP_SECRET,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    if proc.stdout is None:
        raise RuntimeError("the sandbox's output is not a pipe")
    line = proc.stdout.readline()
    url = next(w for w in line.split() if w.startswith("http://"))
    return proc, url


def ours(url: str) -> Callable[[int], None]:
    client = FeishuClient(url, APP_ID, APP_SECRET, MemoryTokenStore())

    def call(i: int) -> None:
        client.create_exam(APPLICATION_ID, f"paper {i}", Decimal("70.0"), OPERATOR)

    return call


def sdk(url: str) -> Callable[[int], None]:
    client = (
        lark.Client.builder()
        .app_id(APP_ID)
        .app_secret(APP_SECRET)
        .domain(url)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )

    def call(i: int) -> None:
        request = (
            CreateExamRequest.builder()
            .user_id_type("open_id")
            .request_body(
                CreateExamRequestBody.builder()
                .application_id(APPLICATION_ID)
                .exam_resource_name(f"paper {i}")
                .score(70.0)
                .operator_id(OPERATOR)
                .build()
            )
            .build()
        )
        response = client.hire.v1.exam.create(request)
        if not response.success():
            raise RuntimeError(f"SDK call failed: {response.code} {response.msg}")

    return call


def run_round(call: Callable[[int], None], calls: int) -> tuple[float, float]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(calls):
        call(i)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / calls, calls / wall


def measure(url: str, rounds: int, calls: int) -> dict[str, list[tuple[float, float]]]:
    clients = {"feishu": ours(url), "lark-oapi": sdk(url)}
    for call in clients.values():  # warm up: token, imports, connections
        for i in range(20):
            call(i)
    results: dict[str, list[tuple[float, float]]] = {n: [] for n in clients}
    order = list(clients)
    for round_no in range(rounds):
        for name in order if round_no % 2 == 0 else reversed(order):
            cpu, rate = run_round(clients[name], calls)
            results[name].append((cpu, rate))
            print(
                f"round {round_no + 1} {name:10s} cpu/call {cpu * 1e6:8.1f} us"
                f"  calls/s {rate:8.1f}",
                flush=True,
            )
    return results


def report(
    results: dict[str, list[tuple[float, float]]], rounds: int, calls: int
) -> None:
    med = {
        name: (
            statistics.median(r[0] for r in rows),
            statistics.median(r[1] for r in rows),
        )
        for name, rows in results.items()
    }
    print(
        f"\nmedians over {rounds} rounds of {calls} calls "
        "(sandbox in its own process, rate limit off)"
    )
    for name, (cpu, rate) in med.items():
        print(f"  {name:10s} cpu/call {cpu * 1e6:8.1f} us  calls/s {rate:8.1f}")
    cpu_ratio = med["feishu"][0] / med["lark-oapi"][0]
    rate_ratio = med["feishu"][1] / med["lark-oapi"][1]
    print(f"  cpu/call ratio feishu/lark-oapi: {cpu_ratio:.2f}x (goal <= 0.6x)")
    print(f"  calls/s  ratio feishu/lark-oapi: {rate_ratio:.2f}x (goal >= 1.3x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    proc, url = start_sandbox()
    try:
        results = measure(url, args.rounds, args.calls)
        report(results, args.rounds, args.calls)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
