"""Every row of the error table: what each failure is raised as, and what it means
for a retry. Against the sandbox over real HTTP, except the answers only a proxy
would give (a canned raw-socket server)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from feishu import (
    CredentialsError,
    FeishuClient,
    InvalidRequestError,
    MemoryTokenStore,
    MissingScopeError,
    OutcomeUnknownError,
    ParameterError,
    RateLimitedError,
    RequestNotSentError,
    Retry,
    TokenError,
    exam_body,
)
from tests.feishu.feishu_helpers import APPLICATION_ID, OPERATOR, Sandbox

MakeClient = Callable[..., FeishuClient]


def create(client: FeishuClient, name: str = "Paper A", score: str = "70"):
    return client.create_exam(APPLICATION_ID, name, Decimal(score), OPERATOR)


def exam_posts(sandbox: Sandbox) -> int:
    return sandbox.stats()["requests"].get("/open-apis/hire/v1/exams", 0)


# -- safe to retry --------------------------------------------------------------


def test_http_429_is_rate_limited_with_the_reset_seconds(sandbox, client):
    sandbox.configure(rate_per_second=3)
    for i in range(3):
        create(client, f"paper {i}")

    with pytest.raises(RateLimitedError) as caught:
        create(client, "one too many")

    err = caught.value
    assert err.retry is Retry.SAFE
    assert err.http_status == 429
    assert err.code == 99991400
    assert err.reset_seconds >= 1
    assert err.log_id
    assert sandbox.exams()["total"] == 3


def test_per_minute_limit_reports_a_longer_reset(sandbox, client):
    sandbox.configure(rate_per_second=100, rate_per_minute=2)
    create(client, "a")
    create(client, "b")

    with pytest.raises(RateLimitedError) as caught:
        create(client, "c")

    assert 1 < caught.value.reset_seconds <= 60
    assert sandbox.exams()["total"] == 2


def test_rate_limit_switched_off_lets_every_call_through(sandbox, client):
    sandbox.configure(rate_limit=False, rate_per_second=1)

    for i in range(5):
        create(client, f"paper {i}")

    assert sandbox.exams()["total"] == 5


def test_code_99991400_with_http_400_is_rate_limited_too(canned_client):
    # Older Feishu APIs answer the throttle with HTTP 400 and the same body.
    client, _server = canned_client(
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
        b"x-ogw-ratelimit-limit: 50\r\nx-ogw-ratelimit-reset: 7\r\n"
        b"Content-Length: 58\r\nConnection: close\r\n\r\n"
        b'{"code":99991400,"msg":"request trigger frequency limit"}\n'
    )

    with pytest.raises(RateLimitedError) as caught:
        create(client)

    assert caught.value.reset_seconds == 7
    assert caught.value.http_status == 400


def test_connection_refused_is_request_not_sent(make_client):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}")

    with pytest.raises(RequestNotSentError) as caught:
        create(client)

    assert caught.value.retry is Retry.SAFE


def test_dns_failure_is_request_not_sent(make_client):
    client = make_client(base_url="http://feishu-sandbox.invalid")

    with pytest.raises(RequestNotSentError):
        create(client)


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A listening port whose accept queue is full: new SYNs are dropped, so a
    connect times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.settimeout(0.2)
        with contextlib.suppress(OSError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    server.close()


def test_connect_timeout_is_request_not_sent(make_client, full_backlog):
    client = make_client(
        base_url=f"http://127.0.0.1:{full_backlog}", connect_timeout=0.3
    )

    with pytest.raises(RequestNotSentError):
        create(client)


def test_token_refused_even_after_a_refresh_is_a_token_error(sandbox, client):
    # A token that is already expired when issued: refused, refreshed once, refused.
    sandbox.configure(token_lifetime=0)

    with pytest.raises(TokenError) as caught:
        create(client)

    assert caught.value.retry is Retry.SAFE
    assert caught.value.code == 99991663
    assert sandbox.exams()["total"] == 0
    assert exam_posts(sandbox) == 2  # the call and its single retry


# -- permanent ------------------------------------------------------------------


def test_1002002_is_a_parameter_error_with_feishus_message(sandbox, client):
    with pytest.raises(ParameterError) as caught:
        client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), "not-an-open-id")

    err = caught.value
    assert err.retry is Retry.PERMANENT
    assert err.http_status == 400
    assert err.code == 1002002
    assert "operator_id is not a valid open_id" in err.msg
    assert err.request_body == exam_body(
        APPLICATION_ID, "Paper", Decimal("70"), "not-an-open-id"
    )
    assert '"code":1002002' in err.response_body.replace(" ", "")
    assert sandbox.exams()["total"] == 0


def test_missing_application_is_a_parameter_error(sandbox, client):
    sandbox.configure(missing_applications=[APPLICATION_ID])

    with pytest.raises(ParameterError, match="application not exist"):
        create(client)


def test_99991672_is_missing_scope_naming_the_scopes(sandbox, client):
    sandbox.configure(missing_scope=True)

    with pytest.raises(MissingScopeError) as caught:
        create(client)

    assert caught.value.scopes == ["hire:exam"]
    assert caught.value.retry is Retry.PERMANENT
    assert caught.value.code == 99991672
    assert sandbox.exams()["total"] == 0


def test_wrong_app_secret_is_a_credentials_error(sandbox, make_client):
    client = make_client(app_secret="not-the-secret")

    with pytest.raises(CredentialsError) as caught:
        create(client)

    assert caught.value.code == 10014
    assert caught.value.retry is Retry.PERMANENT
    assert "not-the-secret" not in str(caught.value) + repr(caught.value)
    assert exam_posts(sandbox) == 0


def test_unknown_app_id_is_a_credentials_error(sandbox, make_client):
    client = make_client(app_id="cli_nobody")

    with pytest.raises(CredentialsError) as caught:
        create(client)

    assert caught.value.code == 10003


@pytest.mark.parametrize("base_url", ["sandbox:8801", "ftp://example.com", ""])
def test_a_malformed_base_url_is_refused_when_the_client_is_made(base_url):
    with pytest.raises(InvalidRequestError):
        FeishuClient(base_url, "cli_x", "secret", MemoryTokenStore())


@pytest.mark.parametrize("user_id_type", ["email", "OPEN_ID", "", "open_id "])
def test_bad_user_id_type_is_refused_before_any_call(sandbox, client, user_id_type):
    with pytest.raises(InvalidRequestError):
        client.create_exam(
            APPLICATION_ID, "Paper", Decimal("70"), OPERATOR, user_id_type=user_id_type
        )

    assert sandbox.stats()["requests"] == {"/_sandbox/stats": 1}


def test_every_accepted_user_id_type_reaches_feishu(sandbox, client):
    operators = {
        "open_id": "ou_1",
        "union_id": "on_1",
        "user_id": "u1",
        "people_admin_id": "p1",
    }
    for user_id_type, operator in operators.items():
        client.create_exam(
            APPLICATION_ID, user_id_type, Decimal("1"), operator, user_id_type
        )

    recorded = {e["user_id_type"] for e in sandbox.exams()["exams"]}
    assert recorded == set(operators)


# -- outcome unknown --------------------------------------------------------------


def test_1002001_before_recording_is_outcome_unknown(sandbox, client):
    sandbox.configure(fail_ratio=1.0, fail_mode="before")

    with pytest.raises(OutcomeUnknownError) as caught:
        create(client)

    assert caught.value.retry is Retry.UNKNOWN
    assert caught.value.code == 1002001
    assert caught.value.http_status == 500
    assert caught.value.log_id
    assert sandbox.exams()["total"] == 0
    assert exam_posts(sandbox) == 1  # not retried


def test_1002001_after_recording_is_outcome_unknown_and_feishu_holds_it(
    sandbox, client
):
    sandbox.configure(fail_ratio=1.0, fail_mode="after")

    with pytest.raises(OutcomeUnknownError):
        create(client)

    assert sandbox.exams()["total"] == 1
    assert exam_posts(sandbox) == 1


def test_read_timeout_is_outcome_unknown(sandbox, make_client):
    client = make_client(read_timeout=0.3)
    create(client, "warm up")  # the token fetch must not be the call that times out
    sandbox.configure(latency=1.0)

    with pytest.raises(OutcomeUnknownError) as caught:
        create(client, "slow")

    assert caught.value.request_body is not None
    assert exam_posts(sandbox) == 2


def test_connection_closed_after_sending_is_outcome_unknown_and_not_resent(
    sandbox, client
):
    create(client, "warm up")
    sandbox.configure(drop_ratio=1.0)

    with pytest.raises(OutcomeUnknownError):
        create(client, "dropped")

    exams = sandbox.exams()
    assert [e["exam_resource_name"] for e in exams["exams"]] == ["warm up", "dropped"]
    assert exams["duplicates"] == []
    assert exam_posts(sandbox) == 2


def test_a_proxys_html_502_is_outcome_unknown(canned_client):
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    client, server = canned_client(
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(html), html)
    )

    with pytest.raises(OutcomeUnknownError) as caught:
        create(client)

    assert caught.value.http_status == 502
    assert caught.value.code is None
    assert "502 Bad Gateway" in caught.value.response_body
    assert server.requests == 1


def test_other_5xx_with_feishu_json_is_outcome_unknown(canned_client):
    body = b'{"code":2200,"msg":"Internal Server Error"}'
    client, _server = canned_client(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        b"X-Tt-Logid: 202601010000abc\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n%s" % (len(body), body)
    )

    with pytest.raises(OutcomeUnknownError) as caught:
        create(client)

    assert caught.value.log_id == "202601010000abc"
    assert caught.value.code == 2200


def test_search_answering_5xx_is_outcome_unknown(sandbox, client):
    sandbox.configure(search_fail_status=503)

    with pytest.raises(OutcomeUnknownError) as caught:
        client.search_tests([APPLICATION_ID])

    assert caught.value.http_status == 503


def test_token_endpoint_failure_is_a_token_error_not_an_unknown_outcome(
    make_client, canned_server
):
    # Nothing was sent to the hire API, so a failed token fetch is safe to retry.
    server = canned_server(
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad"
    )
    client = make_client(base_url=server.url, token_store=MemoryTokenStore())

    with pytest.raises(TokenError) as caught:
        create(client)

    assert caught.value.retry is Retry.SAFE
