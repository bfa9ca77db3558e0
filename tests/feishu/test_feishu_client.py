"""The client's calls against the sandbox: results, connection reuse, reads used for
reconciliation, attachments, and nothing secret in what it prints."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

import feishu.exams
from feishu import (
    CredentialsError,
    FeishuError,
    InvalidRequestError,
    MemoryTokenStore,
    OutcomeUnknownError,
    TokenError,
    __version__,
    exam_body,
)
from tests.feishu.feishu_helpers import (
    APP_SECRET,
    APPLICATION_ID,
    OPERATOR,
    start_sandbox,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


# -- create_exam ------------------------------------------------------------------


def test_created_exam_carries_feishus_answer_and_the_exact_bytes_sent(sandbox, client):
    created = client.create_exam(
        APPLICATION_ID,
        "笔试试卷",
        Decimal("88.50"),
        OPERATOR,
        uuid="6949805467799537964",
    )

    recorded = sandbox.exams()["exams"][0]
    assert created.exam_id == recorded["exam_id"]
    assert created.request_body == exam_body(
        APPLICATION_ID, "笔试试卷", Decimal("88.5"), OPERATOR, "6949805467799537964"
    )
    assert created.request_body.decode() == recorded["request_body"]
    assert created.score == Decimal("88.5")
    assert created.uuid == "6949805467799537964"
    assert created.operator_id == OPERATOR
    assert created.exam_resource_name == "笔试试卷"
    assert created.http_status == 200
    assert created.log_id
    assert created.exam_id in created.response_body
    assert created.operate_time.tzinfo is UTC
    assert created.operate_time == datetime.fromtimestamp(
        int(recorded["operate_time"]) / 1000, UTC
    )


def test_repeating_a_create_makes_a_second_record_as_feishu_would(sandbox, client):
    # No idempotency key exists; the sandbox shows what a blind resend would cost.
    for _ in range(2):
        client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)

    assert sandbox.exams()["duplicates"] == [
        {"application_id": APPLICATION_ID, "exam_resource_name": "Paper", "count": 2}
    ]


# -- HTTP behaviour ---------------------------------------------------------------


def test_one_connection_serves_many_sequential_calls(sandbox, client):
    for i in range(20):
        client.create_exam(APPLICATION_ID, f"paper {i}", Decimal("70"), OPERATOR)

    stats = sandbox.stats()
    assert stats["requests"]["/open-apis/hire/v1/exams"] == 20
    assert stats["api_connections"] == 1  # token fetch included


def test_requests_name_hiring_portal_and_its_version(sandbox, client):
    client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)

    assert sandbox.stats()["user_agents"] == {f"hiring_portal/{__version__}": 2}


def test_an_idle_pooled_connection_is_replaced_before_reuse(sandbox, make_client):
    client = make_client(pool_idle_seconds=0.2)
    client.create_exam(APPLICATION_ID, "first", Decimal("70"), OPERATOR)
    time.sleep(0.3)

    client.create_exam(APPLICATION_ID, "second", Decimal("70"), OPERATOR)

    assert sandbox.stats()["api_connections"] == 2
    assert sandbox.exams()["total"] == 2


def test_a_connection_the_server_closed_while_idle_is_not_an_unknown_outcome(
    make_client,
):
    # A sandbox of its own that closes idle keep-alive connections after 0.3 s.
    short = start_sandbox("--keepalive-timeout", "0.3")
    try:
        client = make_client(base_url=short.url, pool_idle_seconds=60)
        client.create_exam(APPLICATION_ID, "first", Decimal("70"), OPERATOR)
        time.sleep(0.6)

        client.create_exam(APPLICATION_ID, "second", Decimal("70"), OPERATOR)

        assert short.exams()["total"] == 2
    finally:
        short.proc.terminate()
        short.proc.wait(timeout=10)


# -- tests/search ---------------------------------------------------------------------


def test_search_lists_created_exams_with_decimal_scores(sandbox, client):
    created = client.create_exam(APPLICATION_ID, "Paper", Decimal("88.5"), OPERATOR)
    client.create_exam("123", "Other", Decimal("1"), OPERATOR)

    records = client.search_tests([APPLICATION_ID])

    assert [(r.test_id, r.score, r.test_paper_name) for r in records] == [
        (created.exam_id, Decimal("88.5"), "Paper")
    ]
    assert records[0].created_at == created.operate_time
    assert records[0].result_upload_time is None


def test_search_pages_through_every_record(sandbox, client):
    for i in range(230):
        sandbox_score = f"{i % 100}.5"
        sandbox.add_test(
            application_id=APPLICATION_ID, test_paper_name=f"p{i}", score=sandbox_score
        )

    records = client.search_tests([APPLICATION_ID])

    assert len(records) == 230
    assert len({r.test_id for r in records}) == 230
    assert sandbox.stats()["requests"]["/open-apis/hire/v1/tests/search"] == 3


def test_search_scores_as_strings_compare_as_decimals(sandbox, client):
    sandbox.configure(search_score_as_string=True)
    client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)

    (record,) = client.search_tests([APPLICATION_ID])

    assert isinstance(record.raw["score"], str)
    assert record.score == Decimal("70.0")


def test_search_ids_may_differ_from_exam_ids(sandbox, client):
    sandbox.configure(search_ids_differ=True)
    created = client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)

    (record,) = client.search_tests([APPLICATION_ID])

    assert record.test_id != created.exam_id
    assert record.test_paper_name == "Paper"


def test_search_lag_hides_a_new_exam_for_a_while(sandbox, client):
    sandbox.configure(search_lag=0.5)
    client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)

    assert client.search_tests([APPLICATION_ID]) == []
    time.sleep(0.6)
    assert len(client.search_tests([APPLICATION_ID])) == 1


def test_search_that_does_not_list_api_exams_still_lists_hand_entered_ones(
    sandbox, client
):
    sandbox.configure(search_lists_api_exams=False)
    client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)
    sandbox.add_test(application_id=APPLICATION_ID, test_paper_name="Paper", score="70")

    (record,) = client.search_tests([APPLICATION_ID])

    assert record.result_upload_time is not None  # hand-entered
    assert record.score == Decimal("70")


# -- get application, find user ids --------------------------------------------------


def test_get_application_returns_a_known_application(sandbox, client):
    application = client.get_application(APPLICATION_ID)

    assert application is not None
    assert application.id == APPLICATION_ID
    assert application.active_status == 1


def test_get_application_returns_none_for_a_missing_one(sandbox, client):
    sandbox.configure(missing_applications=["111"])

    assert client.get_application("111") is None


def test_only_listed_applications_exist_when_the_sandbox_is_told_so(sandbox, client):
    sandbox.configure(known_applications=["222"])

    assert client.get_application("222") is not None
    assert client.get_application("333") is None


def test_get_application_refuses_a_non_numeric_id_before_any_call(sandbox, client):
    with pytest.raises(InvalidRequestError):
        client.get_application("../exams")

    assert sandbox.stats()["requests"] == {"/_sandbox/stats": 1}


def test_find_user_ids_maps_emails_and_leaves_invisible_ones_empty(sandbox, client):
    sandbox.configure(
        hidden_emails=["gone@example.com"],
        users={"li.lei@example.com": {"open_id": "ou_lilei", "user_id": "lilei"}},
    )

    found = client.find_user_ids(["Li.Lei@example.com", "gone@example.com"])
    as_user_id = client.find_user_ids(["li.lei@example.com"], user_id_type="user_id")

    assert found == {"Li.Lei@example.com": "ou_lilei", "gone@example.com": None}
    assert as_user_id == {"li.lei@example.com": "lilei"}


def test_find_user_ids_asks_in_batches_of_50(sandbox, client):
    emails = [f"user{i}@example.com" for i in range(120)]

    found = client.find_user_ids(emails)

    assert len(found) == 120
    assert all(v and v.startswith("ou_") for v in found.values())
    assert sandbox.stats()["requests"]["/open-apis/contact/v3/users/batch_get_id"] == 3


# -- attachments -------------------------------------------------------------------------


def test_upload_attachment_from_a_path(sandbox, client, tmp_path):
    report = tmp_path / "report.pdf"
    report.write_bytes(PDF)

    attachment = client.upload_attachment(report)

    assert attachment.id.isdigit()
    assert attachment.name == "report.pdf"
    assert attachment.log_id
    assert sandbox.stats()["attachments"] == 1


def test_upload_attachment_from_a_file_object(sandbox, client):
    attachment = client.upload_attachment(io.BytesIO(PNG), "scan.png")

    assert attachment.name == "scan.png"


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"hello", "notes.txt"),  # not JPG/PNG/PDF
        (b"hello", "fake.pdf"),  # content is not a PDF
        (b"", "empty.pdf"),
        (PDF, ""),
    ],
)
def test_upload_attachment_refuses_bad_files_before_any_call(
    sandbox, client, content, filename
):
    with pytest.raises(InvalidRequestError):
        client.upload_attachment(io.BytesIO(content), filename)

    assert sandbox.stats()["requests"] == {"/_sandbox/stats": 1}


def test_upload_attachment_refuses_files_over_the_limit(sandbox, client, monkeypatch):
    monkeypatch.setattr(feishu.exams, "ATTACHMENT_MAX_BYTES", len(PDF) - 1)

    with pytest.raises(InvalidRequestError, match="larger than"):
        client.upload_attachment(io.BytesIO(PDF), "big.pdf")


# -- secrets ----------------------------------------------------------------------------


def test_client_repr_shows_neither_secret_nor_token(sandbox, client):
    client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)
    token = client._store.get(client.token_key)
    assert token

    shown = repr(client) + str(client) + repr(vars(client))

    assert APP_SECRET not in shown
    assert token not in shown


def test_errors_show_neither_secret_nor_token(sandbox, client):
    client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)
    old_token = client._store.get(client.token_key)
    sandbox.configure(token_lifetime=0, fail_ratio=1.0)
    sandbox.revoke_tokens()
    failures: list[FeishuError] = []
    for _ in range(2):
        try:
            client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)
        except FeishuError as exc:
            failures.append(exc)

    assert [type(f) for f in failures] == [TokenError, TokenError]
    for failure in failures:
        shown = " ".join(
            [
                str(failure),
                repr(failure),
                failure.response_body or "",
                str(vars(failure)),
            ]
        )
        assert APP_SECRET not in shown
        assert old_token not in shown
        assert "t-" not in (failure.response_body or "")


def test_credentials_error_does_not_echo_the_secret(sandbox, make_client):
    client = make_client(app_secret="s3cr3t-value", token_store=MemoryTokenStore())

    with pytest.raises(CredentialsError) as caught:
        client.get_application(APPLICATION_ID)

    shown = str(caught.value) + repr(caught.value) + str(vars(caught.value))
    assert "s3cr3t-value" not in shown


def test_errors_survive_pickling_for_celery(sandbox, client):
    import pickle

    sandbox.configure(fail_ratio=1.0)
    with pytest.raises(OutcomeUnknownError) as caught:
        client.create_exam(APPLICATION_ID, "Paper", Decimal("70"), OPERATOR)

    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301

    assert type(copy) is OutcomeUnknownError
    assert (copy.code, copy.log_id, copy.request_body) == (
        1002001,
        caught.value.log_id,
        caught.value.request_body,
    )
