"""The official SDK (lark-oapi), a client nobody here wrote, against the sandbox."""

from __future__ import annotations

import lark_oapi as lark
from lark_oapi.api.hire.v1 import CreateExamRequest, CreateExamRequestBody
from lark_oapi.core.cache.local_cache import LocalCache
from lark_oapi.core.token.manager import TokenManager

from tests.feishu.feishu_helpers import APP_ID, APP_SECRET, APPLICATION_ID, OPERATOR


def lark_client(url: str) -> lark.Client:
    return (
        lark.Client.builder()
        .app_id(APP_ID)
        .app_secret(APP_SECRET)
        .domain(url)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )


def test_lark_oapi_gets_a_token_and_creates_an_exam(sandbox, monkeypatch):
    # The SDK caches tokens in a class-level dict: start with an empty one.
    monkeypatch.setattr(TokenManager, "cache", LocalCache())
    client = lark_client(sandbox.url)
    request = (
        CreateExamRequest.builder()
        .user_id_type("open_id")
        .request_body(
            CreateExamRequestBody.builder()
            .application_id(APPLICATION_ID)
            .exam_resource_name("笔试试卷")
            .score(95.5)
            .uuid("6949805467799537964")
            .operator_id(OPERATOR)
            .build()
        )
        .build()
    )

    response = client.hire.v1.exam.create(request)

    assert response.success(), (response.code, response.msg)
    assert response.get_log_id()
    (recorded,) = sandbox.exams()["exams"]
    assert response.data.exam_id == recorded["exam_id"]
    assert response.data.score == 95.5
    assert recorded["score"] == "95.5"
    assert recorded["exam_resource_name"] == "笔试试卷"
    assert sandbox.stats()["tokens_issued"] == 1


def test_lark_oapi_sees_feishus_parameter_error_code(sandbox, monkeypatch):
    monkeypatch.setattr(TokenManager, "cache", LocalCache())
    client = lark_client(sandbox.url)
    request = (
        CreateExamRequest.builder()
        .request_body(
            CreateExamRequestBody.builder()
            .application_id(APPLICATION_ID)
            .exam_resource_name("Paper")
            .score(95.55)
            .operator_id(OPERATOR)
            .build()
        )
        .build()
    )

    response = client.hire.v1.exam.create(request)

    assert response.code == 1002002
    assert sandbox.exams()["total"] == 0
