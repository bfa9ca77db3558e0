"""The candidate reads: one application (feishu-candidates.md section 3)."""

from __future__ import annotations

from urllib.parse import quote

from feishu.base import BaseClient
from feishu.errors import InvalidRequestError
from feishu.http import CODE_APPLICATION_NOT_FOUND
from feishu.models import Application

APPLICATION_PATH = "/open-apis/hire/v1/applications/"


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
        return Application(
            id=str(app["id"]),
            job_id=app.get("job_id"),
            talent_id=app.get("talent_id"),
            active_status=status if isinstance(status, int) else None,
            raw=app,
        )
