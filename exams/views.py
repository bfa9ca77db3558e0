"""Views outside the admin: Feishu's event callback."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .candidates.events import callback_receive


# Feishu signs its requests (X-Lark-Signature, with the Encrypt Key) and carries
# the Verification Token; there is no session and no CSRF cookie to check.
@csrf_exempt
@require_POST
def feishu_events_view(request: HttpRequest) -> JsonResponse:
    answer = callback_receive(request.body, request.headers)
    return JsonResponse(answer.body, status=answer.status)
