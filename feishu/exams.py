"""The written-exam calls: add a result, upload its report, and read results back
for reconciliation (feishu-api.md sections 3-5)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from feishu.base import BaseClient
from feishu.errors import InvalidRequestError, OutcomeUnknownError
from feishu.models import (
    Attachment,
    CreatedExam,
    TestRecord,
    id_string,
    ms_to_datetime,
    to_decimal,
)
from feishu.payloads import check_user_id_type, exam_body

EXAMS_PATH = "/open-apis/hire/v1/exams"
ATTACHMENTS_PATH = "/open-apis/hire/v1/attachments"
TESTS_SEARCH_PATH = "/open-apis/hire/v1/tests/search"

ATTACHMENT_MAX_BYTES = 100 * 1024 * 1024
_ATTACHMENT_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}

SEARCH_PAGE_SIZE = 100
SEARCH_MAX_IDS = 100
SEARCH_MAX_PAGES = 200  # Feishu lists at most 10,000 records (100 pages of 100)


class ExamCalls(BaseClient):
    def create_exam(
        self,
        application_id: str,
        exam_resource_name: str,
        score: Decimal | int,
        operator_id: str,
        user_id_type: str = "open_id",
        uuid: str | None = None,
    ) -> CreatedExam:
        """``POST /open-apis/hire/v1/exams``: add a written-exam result.

        Sends exactly ``exam_body(...)``; the same bytes are on the result and on
        any error, for the audit.
        """
        check_user_id_type(user_id_type)
        body = exam_body(application_id, exam_resource_name, score, operator_id, uuid)
        answer = self._call(
            "POST",
            EXAMS_PATH,
            what="create exam",
            query=f"user_id_type={user_id_type}",
            data=body,
            audit_body=body,
        )
        # Checked explicitly, never with assert (python -O strips those): a success
        # answer without a usable exam_id or operate_time must not count as
        # delivered, and Feishu may have recorded the result, so the outcome is
        # unknown.
        data = answer.data
        exam_id = id_string(data.get("exam_id"))
        operate_time = ms_to_datetime(data.get("operate_time"))
        if exam_id is None or operate_time is None:
            raise OutcomeUnknownError(
                "create exam: success answer without exam_id / operate_time",
                http_status=answer.status,
                code=answer.code,
                log_id=answer.log_id,
                request_body=body,
                response_body=answer.text,
            )
        result_score = to_decimal(data.get("score"))
        return CreatedExam(
            exam_id=exam_id,
            application_id=str(data.get("application_id", application_id)),
            exam_resource_name=str(data.get("exam_resource_name", exam_resource_name)),
            score=result_score if result_score is not None else Decimal(score),
            uuid=data.get("uuid") or uuid,
            operator_id=str(data.get("operator_id", operator_id)),
            operate_time=operate_time,
            log_id=answer.log_id,
            request_body=body,
            response_body=answer.text,
            http_status=answer.status,
        )

    def upload_attachment(
        self, file: BinaryIO | str | os.PathLike[str], filename: str | None = None
    ) -> Attachment:
        """``POST /open-apis/hire/v1/attachments`` (multipart field ``content``).

        A JPG, PNG or PDF report of at most 100 MB; checked before upload.
        """
        if isinstance(file, str | os.PathLike):
            path = Path(file)
            filename = filename or path.name
            with path.open("rb") as fh:
                content = fh.read(ATTACHMENT_MAX_BYTES + 1)
        else:
            filename = filename or Path(str(getattr(file, "name", ""))).name
            content = file.read(ATTACHMENT_MAX_BYTES + 1)
        if not filename:
            raise InvalidRequestError("attachment needs a file name")
        suffix = Path(filename).suffix.lower()
        if suffix not in _ATTACHMENT_TYPES:
            raise InvalidRequestError(
                f"attachment must be JPG, PNG or PDF, not {filename!r}"
            )
        mime, magics = _ATTACHMENT_TYPES[suffix]
        if not content:
            raise InvalidRequestError("attachment is empty")
        if len(content) > ATTACHMENT_MAX_BYTES:
            raise InvalidRequestError("attachment is larger than 100 MB")
        if not content.startswith(magics):
            raise InvalidRequestError(
                f"attachment {filename!r} content does not look like {suffix[1:]}"
            )
        answer = self._call(
            "POST",
            ATTACHMENTS_PATH,
            what="upload attachment",
            files={"content": (filename, content, mime)},
            content_type=None,
        )
        data = answer.data
        if not data.get("id"):
            raise OutcomeUnknownError(
                "upload attachment: success answer without an id",
                http_status=answer.status,
                log_id=answer.log_id,
                response_body=answer.text,
            )
        return Attachment(
            id=str(data["id"]),
            name=str(data.get("name") or filename),
            log_id=answer.log_id,
        )

    def search_tests(
        self, application_ids: Iterable[str], user_id_type: str = "open_id"
    ) -> list[TestRecord]:
        """Every ``tests/search`` item for these applications, all pages."""
        check_user_id_type(user_id_type)
        ids = list(dict.fromkeys(application_ids))
        records: list[TestRecord] = []
        for start in range(0, len(ids), SEARCH_MAX_IDS):
            chunk = ids[start : start + SEARCH_MAX_IDS]
            records.extend(self._search_chunk(chunk, user_id_type))
        return records

    def _search_chunk(self, ids: list[str], user_id_type: str) -> Iterator[TestRecord]:
        body = json.dumps({"application_id_list": ids}).encode()
        page_token: str | None = None
        for _ in range(SEARCH_MAX_PAGES):
            params = {"page_size": SEARCH_PAGE_SIZE, "user_id_type": user_id_type}
            if page_token:
                params["page_token"] = page_token
            answer = self._call(
                "POST",
                TESTS_SEARCH_PATH,
                what="search tests",
                query=urlencode(params),
                data=body,
            )
            data = answer.data
            for item in data.get("items") or []:
                yield TestRecord(
                    test_id=str(item.get("test_id", "")),
                    application_id=str(item.get("application_id", "")),
                    test_paper_name=item.get("test_paper_name"),
                    score=to_decimal(item.get("score")),
                    created_at=ms_to_datetime(item.get("created_at")),
                    result_upload_time=ms_to_datetime(item.get("result_upload_time")),
                    raw=item,
                )
            next_token = data.get("page_token")
            if not data.get("has_more"):
                return
            if not next_token or next_token == page_token:
                raise OutcomeUnknownError(
                    "search tests: has_more without a new page_token",
                    http_status=answer.status,
                    log_id=answer.log_id,
                    response_body=answer.text,
                )
            page_token = str(next_token)
        raise OutcomeUnknownError("search tests: too many pages")
