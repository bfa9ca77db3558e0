"""A success answer to ``POST /hire/v1/exams`` that the client cannot use: Feishu
may have recorded the result, so the outcome is unknown, never "delivered".

Feishu (and the sandbox) always answer with an exam id; only a canned server can
send these answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest

from feishu import OutcomeUnknownError, Retry
from tests.feishu.feishu_helpers import APPLICATION_ID, OPERATOR, REPO_ROOT


def canned_success(data: object) -> bytes:
    body = json.dumps({"code": 0, "msg": "success", "data": data}).encode()
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        b"X-Tt-Logid: 202601010000canned\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n%s" % (len(body), body)
    )


GOOD = {
    "exam_id": "7010000000000000001",
    "application_id": APPLICATION_ID,
    "exam_resource_name": "Paper",
    "score": 70.0,
    "operator_id": OPERATOR,
    "operate_time": "1767225600000",
}

UNUSABLE = {
    "null exam_id": {**GOOD, "exam_id": None},
    "empty exam_id": {**GOOD, "exam_id": ""},
    "blank exam_id": {**GOOD, "exam_id": "  "},
    "no exam_id": {k: v for k, v in GOOD.items() if k != "exam_id"},
    "exam_id an object": {**GOOD, "exam_id": {"id": "1"}},
    "exam_id true": {**GOOD, "exam_id": True},
    "null operate_time": {**GOOD, "operate_time": None},
    "no operate_time": {k: v for k, v in GOOD.items() if k != "operate_time"},
    "operate_time not a number": {**GOOD, "operate_time": "yesterday"},
    "data null": None,
    "data a list": [GOOD],
}


@pytest.mark.parametrize("data", UNUSABLE.values(), ids=UNUSABLE.keys())
def test_a_success_answer_without_a_usable_exam_id_or_time_is_outcome_unknown(
    canned_client, data
):
    client, server = canned_client(canned_success(data))

    with pytest.raises(OutcomeUnknownError) as caught:
        client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)

    assert caught.value.retry is Retry.UNKNOWN
    assert caught.value.log_id == "202601010000canned"
    assert caught.value.request_body is not None
    assert server.requests == 1


def test_a_numeric_exam_id_is_kept_as_its_digits(canned_client):
    client, _server = canned_client(
        canned_success({**GOOD, "exam_id": 7010000000000000001})
    )

    created = client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)

    assert created.exam_id == "7010000000000000001"


CHECK_UNDER_O = textwrap.dedent(
    """
    import sys
    from decimal import Decimal
    from feishu import FeishuClient, MemoryTokenStore, OutcomeUnknownError

    assert False, "this check must run with asserts off"
    client = FeishuClient(sys.argv[1], "cli_x", "secret", MemoryTokenStore())
    client._store.set(client.token_key, "t-canned", 60)
    try:
        created = client.create_exam("{app}", "Paper", Decimal("70"), "{op}")
    except OutcomeUnknownError:
        print("outcome unknown")
    else:
        print("delivered as", repr(created.exam_id), created.operate_time)
    """
).format(app=APPLICATION_ID, op=OPERATOR)


@pytest.mark.parametrize(
    "data",
    [{**GOOD, "exam_id": None}, {**GOOD, "operate_time": None}, None],
    ids=["null exam_id", "null operate_time", "data null"],
)
def test_under_python_O_an_unusable_success_answer_is_still_outcome_unknown(
    canned_server, data
):
    # python -O strips assert statements: the check must not be one.
    server = canned_server(canned_success(data))

    run = subprocess.run(
        [sys.executable, "-O", "-c", CHECK_UNDER_O, server.url],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "outcome unknown"
