"""The candidate reads (feishu-candidates.md sections 1-5): one application, its
detail, talents by email or mobile, application ids, job processes.

Each method makes exactly one HTTP call: the portal takes one rate-limit permit
per call, so paging and chunking are the caller's. Arguments beyond what the API
allows raise ValueError before any call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

from feishu.base import BaseClient
from feishu.errors import InvalidRequestError, OutcomeUnknownError
from feishu.http import CODE_APPLICATION_NOT_FOUND, Answer
from feishu.models import (
    Application,
    ApplicationDetail,
    IdPage,
    JobProcess,
    JobProcessPage,
    Stage,
    StageTime,
    TalentMatch,
    id_string,
    ms_to_datetime,
)

APPLICATION_PATH = "/open-apis/hire/v1/applications/"
APPLICATIONS_PATH = "/open-apis/hire/v1/applications"
TALENT_BATCH_GET_ID_PATH = "/open-apis/hire/v1/talents/batch_get_id"
JOB_PROCESSES_PATH = "/open-apis/hire/v1/job_processes"

TALENT_LOOKUP_MAX = 100  # per kind and call ([GO], [MCP en])
PAGE_SIZE_MAX = 100  # applications: 100 per [GO], 200 per [MCP zh]; use 100
ACTIVE_STATUSES = frozenset({"1", "2", "3"})  # active, inactive, all


def _numeric_id(value: object, name: str) -> str:
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        raise ValueError(f"{name} must be a numeric id string, got {value!r}")
    return value


def _page_size(page_size: int) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise ValueError(f"page_size must be an int, got {page_size!r}")
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise ValueError(f"page_size must be 1..{PAGE_SIZE_MAX}, got {page_size}")
    return page_size


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(values: Sequence[str] | None, name: str) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str | bytes) or not all(
        isinstance(v, str) and v.strip() for v in values
    ):
        raise ValueError(f"{name} must be a list of non-empty strings")
    return list(values)


def _termination(reason: dict[str, Any], language: str) -> str | None:
    """``termination_reason.name`` in one language, its children joined on."""
    name = _text(_dict(reason.get("name")).get(language))
    children = [
        _text(_dict(_dict(child).get("name")).get(language))
        for child in reason.get("children") or []
    ]
    details = [c for c in children if c]
    if not details:
        return name
    joined = ("、" if language == "zh_cn" else ", ").join(details)
    if name is None:
        return joined
    return f"{name}：{joined}" if language == "zh_cn" else f"{name}: {joined}"


def _page(answer: Answer, what: str) -> tuple[str | None, bool]:
    data = answer.data
    has_more = data.get("has_more") is True
    token = _text(data.get("page_token"))
    if has_more and token is None:
        raise OutcomeUnknownError(
            f"{what}: has_more without a page_token",
            http_status=answer.status,
            log_id=answer.log_id,
            response_body=answer.text,
        )
    return token, has_more


def application_detail(answer: Answer) -> ApplicationDetail | None:
    """The :class:`ApplicationDetail` in a get_detail answer; None without one."""
    detail = _dict(answer.data.get("application_detail"))
    basic = _dict(detail.get("basic_info"))
    application_id = id_string(basic.get("id"))
    if application_id is None:
        return None
    stage = _dict(basic.get("stage"))
    stage_id = id_string(stage.get("id"))
    times = tuple(
        StageTime(
            str(entry.get("stage_id", "")),
            ms_to_datetime(entry.get("enter_time")),
            ms_to_datetime(entry.get("exit_time")),
        )
        for entry in basic.get("stage_time_list") or []
        if isinstance(entry, dict)
    )
    # The current stage's latest entry: a candidate may enter a stage twice.
    entered = [t.entered_at for t in times if t.stage_id == stage_id and t.entered_at]
    reason = _dict(basic.get("termination_reason"))
    talent = detail.get("talent")
    job = detail.get("job")
    talent_fields, job_fields = _dict(talent), _dict(job)
    return ApplicationDetail(
        application_id=application_id,
        job_id=id_string(basic.get("job_id")),
        talent_id=id_string(basic.get("talent_id")),
        talent_visible=isinstance(talent, dict),
        talent_name=_text(talent_fields.get("name")),
        email=_text(talent_fields.get("email")),
        mobile_code=_text(talent_fields.get("mobile_code")),
        mobile_number=_text(talent_fields.get("mobile_number")),
        job_visible=isinstance(job, dict),
        job_name=_text(job_fields.get("name")),
        job_code=_text(job_fields.get("code")),
        stage_id=stage_id,
        stage_zh_name=_text(stage.get("zh_name")),
        stage_en_name=_text(stage.get("en_name")),
        stage_type=_int(stage.get("type")),
        active=basic.get("active_status") == 1,
        termination_reason_zh=_termination(reason, "zh_cn"),
        termination_reason_en=_termination(reason, "en_us"),
        stage_times=times,
        entered_stage_at=max(entered) if entered else None,
        create_time=ms_to_datetime(basic.get("create_time")),
        modify_time=ms_to_datetime(basic.get("modify_time")),
        log_id=answer.log_id,
        raw=detail,
    )


class CandidateCalls(BaseClient):
    def get_application(self, application_id: str) -> Application | None:
        """``GET /open-apis/hire/v1/applications/:id``; None when it does not exist."""
        if not isinstance(application_id, str) or not application_id.isdigit():
            raise InvalidRequestError(
                f"application_id must be a numeric id, got {application_id!r}"
            )
        answer = self._call(
            "GET",
            APPLICATION_PATH + quote(application_id, safe=""),
            what="get application",
            content_type=None,
            accept_codes=frozenset({CODE_APPLICATION_NOT_FOUND}),
        )
        if answer.code == CODE_APPLICATION_NOT_FOUND:
            return None
        app = answer.data.get("application")
        if not isinstance(app, dict) or not app.get("id"):
            return None
        status = app.get("active_status")
        stage = _dict(app.get("stage"))
        stage_id = id_string(stage.get("id"))
        entered = [
            ms_to_datetime(entry.get("enter_time"))
            for entry in app.get("stage_time_list") or []
            if isinstance(entry, dict) and str(entry.get("stage_id", "")) == stage_id
        ]
        reasons = [r for r in app.get("termination_reason_list") or [] if _text(r)]
        return Application(
            id=str(app["id"]),
            job_id=app.get("job_id"),
            talent_id=app.get("talent_id"),
            active_status=status if isinstance(status, int) else None,
            raw=app,
            stage_id=stage_id,
            stage_zh_name=_text(stage.get("zh_name")),
            stage_en_name=_text(stage.get("en_name")),
            stage_type=_int(stage.get("type")),
            termination_reason=_text(app.get("termination_reason_note"))
            or ("、".join(reasons) if reasons else None),
            entered_stage_at=max((e for e in entered if e), default=None),
        )

    def get_application_detail(self, application_id: str) -> ApplicationDetail | None:
        """``GET /open-apis/hire/v1/applications/:id/get_detail`` with its job and
        talent (10/s). None when Feishu answers 1002201 (no such application)."""
        _numeric_id(application_id, "application_id")
        what = "get application detail"
        answer = self._call(
            "GET",
            f"{APPLICATION_PATH}{application_id}/get_detail",
            what=what,
            query="options=with_job&options=with_talent",
            content_type=None,
            accept_codes=frozenset({CODE_APPLICATION_NOT_FOUND}),
        )
        if answer.code == CODE_APPLICATION_NOT_FOUND:
            return None
        detail = application_detail(answer)
        if detail is None:
            raise self._unusable(answer, what)
        return detail

    def find_talents(
        self,
        *,
        emails: Sequence[str] | None = None,
        mobiles: Sequence[str] | None = None,
        mobile_code: str = "86",
    ) -> list[TalentMatch]:
        """``POST /open-apis/hire/v1/talents/batch_get_id``: talents by email or by
        mobile, one kind per call (Feishu ANDs kinds given together), at most 100.

        Each match echoes the email or mobile as passed, to map it back to a row;
        unmatched values are simply absent. ``mobile_code`` applies to every
        number of the call. A number Feishu refuses raises
        :class:`~feishu.errors.WrongMobileError`.
        """
        email_list = _strings(emails, "emails")
        mobile_list = _strings(mobiles, "mobiles")
        if (email_list is None) == (mobile_list is None):
            raise ValueError("pass either emails or mobiles, one kind per call")
        values = email_list or mobile_list or []
        if not values:
            raise ValueError("nothing to look up")
        if len(values) > TALENT_LOOKUP_MAX:
            raise ValueError(f"at most {TALENT_LOOKUP_MAX} values per call")
        if email_list is not None:
            body: dict[str, Any] = {"email_list": email_list}
        else:
            code = mobile_code.lstrip("+") if isinstance(mobile_code, str) else ""
            if not code.isdigit():
                raise ValueError(f"mobile_code must be digits, got {mobile_code!r}")
            body = {"mobile_code": code, "mobile_number_list": mobile_list}
        answer = self._call(
            "POST",
            TALENT_BATCH_GET_ID_PATH,
            what="find talents",
            data=json.dumps(body, ensure_ascii=False).encode(),
        )
        matches = []
        for item in answer.data.get("talent_list") or []:
            talent_id = id_string(_dict(item).get("talent_id"))
            if talent_id is None:
                continue
            matches.append(
                TalentMatch(
                    talent_id=talent_id,
                    email=_text(item.get("email")),
                    mobile_code=_text(item.get("mobile_code")),
                    mobile_number=_text(item.get("mobile_number")),
                )
            )
        return matches

    def list_applications(
        self,
        *,
        talent_id: str | None = None,
        stage_id: str | None = None,
        job_id: str | None = None,
        active_status: str | None = None,
        update_start_time_ms: int | None = None,
        page_token: str | None = None,
        page_size: int = PAGE_SIZE_MAX,
    ) -> IdPage:
        """``GET /open-apis/hire/v1/applications``: one page of application ids.

        ``active_status``: ``"1"`` active, ``"2"`` inactive (terminated), ``"3"``
        all (Feishu's default). ``stage_id`` is assumed to filter on the current
        stage (UNCONFIRMED).
        """
        params: list[tuple[str, str]] = []
        for name, value in (
            ("talent_id", talent_id),
            ("stage_id", stage_id),
            ("job_id", job_id),
        ):
            if value is not None:
                params.append((name, _numeric_id(value, name)))
        if active_status is not None:
            if active_status not in ACTIVE_STATUSES:
                raise ValueError(
                    f"active_status must be 1, 2 or 3, got {active_status!r}"
                )
            params.append(("active_status", active_status))
        if update_start_time_ms is not None:
            if isinstance(update_start_time_ms, bool) or not isinstance(
                update_start_time_ms, int
            ):
                raise ValueError("update_start_time_ms must be an int (ms)")
            params.append(("update_start_time", str(update_start_time_ms)))
        if page_token:
            params.append(("page_token", page_token))
        params.append(("page_size", str(_page_size(page_size))))
        what = "list applications"
        answer = self._call(
            "GET",
            APPLICATIONS_PATH,
            what=what,
            query=urlencode(params),
            content_type=None,
        )
        items = tuple(
            i for i in (id_string(x) for x in answer.data.get("items") or []) if i
        )
        token, has_more = _page(answer, what)
        return IdPage(items, token, has_more, answer.log_id)

    def list_job_processes(
        self, *, page_token: str | None = None, page_size: int = PAGE_SIZE_MAX
    ) -> JobProcessPage:
        """``GET /open-apis/hire/v1/job_processes`` (20/s): one page of processes
        with their stages. Written-exam stages have type 3."""
        params = {"page_size": str(_page_size(page_size))}
        if page_token:
            params["page_token"] = page_token
        what = "list job processes"
        answer = self._call(
            "GET",
            JOB_PROCESSES_PATH,
            what=what,
            query=urlencode(params),
            content_type=None,
        )
        processes = []
        for item in answer.data.get("items") or []:
            process_id = id_string(_dict(item).get("id"))
            if process_id is None:
                continue
            stages = tuple(
                Stage(
                    id=str(stage["id"]),
                    zh_name=_text(stage.get("zh_name")),
                    en_name=_text(stage.get("en_name")),
                    type=_int(stage.get("type")),
                )
                for stage in item.get("stage_list") or []
                if isinstance(stage, dict) and id_string(stage.get("id"))
            )
            processes.append(
                JobProcess(
                    id=process_id,
                    zh_name=_text(item.get("zh_name")),
                    en_name=_text(item.get("en_name")),
                    type=_int(item.get("type")),
                    stages=stages,
                )
            )
        token, has_more = _page(answer, what)
        return JobProcessPage(tuple(processes), token, has_more, answer.log_id)
