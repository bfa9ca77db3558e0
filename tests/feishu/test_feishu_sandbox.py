"""The sandbox itself, seen over raw HTTP: strict like Feishu, one answer per write,
keep-alive, and a clean stop."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from functools import partial
from urllib.parse import urlsplit

import pytest
import requests

from tests.feishu.feishu_helpers import APP_ID, APPLICATION_ID, OPERATOR, start_sandbox

http_get = partial(requests.get, timeout=10)
http_post = partial(requests.post, timeout=10)

EXAMS = "/open-apis/hire/v1/exams"
GOOD = {
    "application_id": APPLICATION_ID,
    "exam_resource_name": "Paper",
    "score": 70.0,
    "operator_id": OPERATOR,
}


@pytest.fixture
def post_exam(sandbox):
    token, _ = sandbox.token()
    session = requests.Session()

    def post(body, *, query="?user_id_type=open_id", headers=None, raw=None):
        sent = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json; charset=utf-8",
            **(headers or {}),
        }
        data = raw if raw is not None else json.dumps(body).encode()
        return session.post(f"{sandbox.url}{EXAMS}{query}", data=data, headers=sent)

    yield post
    session.close()


def test_a_valid_exam_is_recorded_and_echoed(sandbox, post_exam):
    response = post_exam(GOOD)

    body = response.json()
    assert response.status_code == 200
    assert body["code"] == 0
    assert body["data"]["score"] == 70.0
    assert body["data"]["operate_time"].isdigit()
    assert response.headers["X-Tt-Logid"]
    assert sandbox.exams()["total"] == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"score": 95.55}, "one decimal place"),
        ({"score": "70.0"}, "score must be a number"),
        ({"application_id": 6891565253964859661}, "application_id"),
        ({"application_id": "abc"}, "invalid application_id"),
        ({"operator_id": "someone"}, "operator_id"),
        ({"exam_resource_name": ""}, "exam_resource_name"),
        ({"uuid": None}, "uuid"),
        ({"extra": 1}, "unknown field"),
        ({"score": None}, "score must be a number"),
    ],
)
def test_malformed_bodies_get_1002002(sandbox, post_exam, change, message):
    response = post_exam({**GOOD, **change})

    assert response.status_code == 400
    assert response.json()["code"] == 1002002
    assert message in response.json()["msg"]
    assert response.headers["X-Tt-Logid"]
    assert sandbox.exams()["total"] == 0


def test_a_missing_required_field_gets_1002002(post_exam):
    body = dict(GOOD)
    del body["operator_id"]

    response = post_exam(body)

    assert response.json()["code"] == 1002002
    assert "operator_id" in response.json()["msg"]


def test_bad_user_id_type_content_type_and_json_get_1002002(post_exam):
    assert post_exam(GOOD, query="?user_id_type=email").json()["code"] == 1002002
    assert (
        post_exam(GOOD, headers={"Content-Type": "text/plain"}).json()["code"]
        == 1002002
    )
    assert post_exam(None, raw=b"{not json").json()["code"] == 1002002


def test_missing_and_invalid_tokens_get_feishus_auth_codes(sandbox):
    url = f"{sandbox.url}{EXAMS}"

    missing = http_post(url, json=GOOD)
    invalid = http_post(url, json=GOOD, headers={"Authorization": "Bearer t-x"})
    doubled = http_post(url, json=GOOD, headers={"Authorization": "Bearer Bearer t-x"})

    assert (missing.status_code, missing.json()["code"]) == (400, 99991661)
    assert invalid.json()["code"] == 99991668
    assert doubled.json()["code"] == 99991668


def test_wrong_method_or_path_is_not_found(sandbox, post_exam):
    assert http_get(f"{sandbox.url}{EXAMS}").status_code == 404
    assert http_post(f"{sandbox.url}/open-apis/nothing").status_code == 404


def test_rate_limited_answers_carry_both_headers(sandbox, post_exam):
    sandbox.configure(rate_per_second=1)
    post_exam(GOOD)

    response = post_exam(GOOD)

    assert response.status_code == 429
    assert response.json() == {
        "code": 99991400,
        "msg": "request trigger frequency limit",
    }
    assert response.headers["x-ogw-ratelimit-limit"] == "1"
    assert int(response.headers["x-ogw-ratelimit-reset"]) >= 1


def test_rate_limit_is_per_api(sandbox, post_exam):
    sandbox.configure(rate_per_second=1)
    token, _ = sandbox.token()
    post_exam(GOOD)

    search = http_post(
        f"{sandbox.url}/open-apis/hire/v1/tests/search",
        json={"application_id_list": [APPLICATION_ID]},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert search.json()["code"] == 0


def test_token_endpoint_refuses_bad_credentials(sandbox):
    url = f"{sandbox.url}/open-apis/auth/v3/tenant_access_token/internal"

    wrong_secret = http_post(url, json={"app_id": APP_ID, "app_secret": "x"})
    wrong_app = http_post(url, json={"app_id": "cli_x", "app_secret": "x"})

    assert wrong_secret.json()["code"] == 10014
    assert wrong_app.json()["code"] == 10003
    assert "tenant_access_token" not in wrong_secret.json()


def test_control_refuses_unknown_settings(sandbox):
    response = http_post(f"{sandbox.url}/_sandbox/config", json={"nope": 1})

    assert response.status_code == 400


def _raw_exchange(url: str, requests_bytes: bytes, answers: int) -> list[bytes]:
    """Send raw bytes on one connection; return what each recv() delivered until
    ``answers`` complete answers arrived."""
    parts = urlsplit(url)
    chunks: list[bytes] = []
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(requests_bytes)
        data = b""
        while data.count(b"HTTP/1.1 ") < answers or not _complete(data, answers):
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            data += chunk
    return chunks


def _complete(data: bytes, answers: int) -> bool:
    pieces = data.split(b"HTTP/1.1 ")[1:]
    if len(pieces) < answers:
        return False
    last = b"HTTP/1.1 " + pieces[-1]
    head, _, body = last.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":")[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
    )
    return len(body) >= length


def test_answers_are_kept_alive_http_1_1_each_in_one_segment(sandbox):
    request = (
        f"GET /_sandbox/stats HTTP/1.1\r\nHost: {urlsplit(sandbox.url).netloc}\r\n\r\n"
    ).encode()

    chunks = _raw_exchange(sandbox.url, request, 1)
    chunks += _raw_exchange(sandbox.url, request * 3, 3)

    data = b"".join(chunks)
    assert data.count(b"HTTP/1.1 200 OK") == 4
    assert b"Connection: close" not in data
    # The first answer arrived whole in one recv(): headers and body together.
    assert chunks[0].startswith(b"HTTP/1.1 200 OK")
    _head, _, body = chunks[0].partition(b"\r\n\r\n")
    assert json.loads(body)["api_connections"] == 0


def test_sandbox_stops_cleanly_on_ctrl_c_and_sigterm():
    for sig in (signal.SIGINT, signal.SIGTERM):
        sandbox = start_sandbox()
        assert http_get(f"{sandbox.url}/_sandbox/stats").ok

        sandbox.proc.send_signal(sig)

        try:
            assert sandbox.proc.wait(timeout=10) == 0
        except subprocess.TimeoutExpired:
            sandbox.proc.kill()
            raise


def test_startup_line_names_url_and_sandbox_credentials(sandbox):
    line = sandbox.startup_line

    assert f"listening on {sandbox.url}" in line
    assert f"app_id={APP_ID}" in line
    assert "sandbox credentials" in line
    assert http_get(f"{sandbox.url}/_sandbox/").json()["commands"]
