"""The exact JSON bytes of ``POST /hire/v1/exams``: one decimal place, no float."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from feishu import InvalidRequestError, exam_body
from feishu.payloads import format_score


@pytest.mark.parametrize(
    ("score", "sent"),
    [
        (Decimal("70"), "70.0"),
        (70, "70.0"),
        (Decimal("88.50"), "88.5"),
        (Decimal("88.5"), "88.5"),
        (Decimal("100.0"), "100.0"),
        (Decimal("0"), "0.0"),
        (Decimal("-0.0"), "0.0"),
        (Decimal("0.1"), "0.1"),
        (Decimal("1E+1"), "10.0"),
        (Decimal("59.90"), "59.9"),
    ],
)
def test_score_goes_out_with_exactly_one_decimal_place(score, sent):
    assert format_score(score) == sent


@pytest.mark.parametrize(
    "score",
    [
        Decimal("95.55"),
        Decimal("0.01"),
        Decimal("NaN"),
        Decimal("Infinity"),
        88.5,
        "88.5",
        True,
        None,
    ],
)
def test_scores_that_cannot_go_out_exactly_are_refused(score):
    with pytest.raises(InvalidRequestError):
        format_score(score)


def test_exam_body_is_compact_utf8_json_in_the_documented_field_order():
    body = exam_body(
        "6891565253964859661",
        "笔试试卷",
        Decimal("100"),
        "ou_f476cb099ac9227c9bae09ce46112579",
        uuid="6949805467799537964",
    )

    assert (
        body
        == (
            '{"application_id":"6891565253964859661","exam_resource_name":"笔试试卷",'
            '"score":100.0,"uuid":"6949805467799537964",'
            '"operator_id":"ou_f476cb099ac9227c9bae09ce46112579"}'
        ).encode()
    )
    assert json.loads(body, parse_float=Decimal)["score"] == Decimal("100.0")


def test_exam_body_leaves_out_uuid_when_there_is_no_attachment():
    body = exam_body("1", 'A "quoted" name', Decimal("1"), "ou_x")

    assert json.loads(body) == {
        "application_id": "1",
        "exam_resource_name": 'A "quoted" name',
        "score": 1.0,
        "operator_id": "ou_x",
    }


@pytest.mark.parametrize(
    ("application_id", "name", "operator_id", "uuid"),
    [
        ("", "Paper", "ou_x", None),
        ("12a", "Paper", "ou_x", None),
        (123, "Paper", "ou_x", None),
        ("1", "  ", "ou_x", None),
        ("1", "Paper", "", None),
        ("1", "Paper", "ou_x", ""),
    ],
)
def test_exam_body_refuses_missing_or_malformed_fields(
    application_id, name, operator_id, uuid
):
    with pytest.raises(InvalidRequestError):
        exam_body(application_id, name, Decimal("1"), operator_id, uuid)
