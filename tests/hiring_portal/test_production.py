"""Production settings: the deploy check, refusing the sandbox, structured logs
without secrets, login lockout, static files."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from hiring_portal import feishu_target
from hiring_portal.log import redact
from tests.feishu.feishu_helpers import CannedServer, start_sandbox

pytestmark = pytest.mark.embedded
ROOT = Path(__file__).resolve().parents[2]
SECRET = "app-secret-value-9f8e7d"
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-key-for-tests-0123456789",
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "FEISHU_APP_ID": "cli_a1b2c3",
    "FEISHU_APP_SECRET": SECRET,
    "FEISHU_BASE_URL": "https://open.feishu.cn",
}


def run(
    args: list[str], timeout: float = 120, **env: str
) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "FEISHU_", "AXES_"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "hiring_portal.settings"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_production_settings_pass_the_deploy_check():
    checked = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    # security.W021 (HSTS preload) is the one silenced, explained in docs/deploy.md.
    assert "System check identified no issues (1 silenced)." in checked.stdout


def test_production_behind_a_tls_proxy_trusts_its_header_and_can_leave_redirects_to_it():
    shown = run(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, "
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)",
        ],
        **PRODUCTION,
        DJANGO_SECURE_PROXY_SSL_HEADER="true",
        DJANGO_SECURE_SSL_REDIRECT="false",
    )

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split("\n")[-2] == (
        "('HTTP_X_FORWARDED_PROTO', 'https') False True True 31536000"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8801",
        "http://127.8.9.10",
        "http://localhost:8801",
        "https://LOCALHOST",
        "http://[::1]:8801",
        "http://0.0.0.0:8801",
    ],
)
def test_production_refuses_a_loopback_feishu_base_url(url):
    started = run(
        ["-c", "import django; django.setup()"],
        **{**PRODUCTION, "FEISHU_BASE_URL": url},
    )

    assert started.returncode != 0
    assert (
        "ImproperlyConfigured: FEISHU_BASE_URL points at this machine" in started.stderr
    )


def test_production_uses_the_sandbox_only_when_told_explicitly():
    started = run(
        ["-c", "import django; django.setup()"],
        **{**PRODUCTION, "FEISHU_BASE_URL": "http://127.0.0.1:8801"},
        FEISHU_ALLOW_SANDBOX="true",
    )

    assert started.returncode == 0, started.stderr


def test_production_refuses_a_feishu_base_url_that_answers_as_the_sandbox(settings):
    sandbox = start_sandbox()
    feishu_like = CannedServer(
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 18\r\nConnection: close\r\n\r\n"
        b"404 page not found"
    )
    settings.DEBUG = False
    settings.FEISHU_ALLOW_SANDBOX = False
    try:
        settings.FEISHU_BASE_URL = sandbox.url
        with pytest.raises(ImproperlyConfigured, match="answers as the Feishu sandbox"):
            feishu_target.refuse_sandbox_server()

        settings.FEISHU_BASE_URL = feishu_like.url
        feishu_target.refuse_sandbox_server()  # not the sandbox: starts

        settings.FEISHU_BASE_URL = "http://127.0.0.1:9"  # nothing listens
        feishu_target.refuse_sandbox_server()  # unreachable now: starts, delivery waits

        settings.FEISHU_ALLOW_SANDBOX = True
        settings.FEISHU_BASE_URL = sandbox.url
        feishu_target.refuse_sandbox_server()
    finally:
        sandbox.proc.terminate()
        sandbox.proc.wait(timeout=10)


def test_a_production_worker_refuses_to_start_against_the_sandbox(tmp_path):
    # Loopback addresses are refused before any process starts; a host name that
    # leads to the sandbox (here the machine's own name) is caught when the worker
    # asks the server who it is.
    sandbox = start_sandbox("--host", "0.0.0.0")  # noqa: S104
    port = sandbox.url.rsplit(":", 1)[1]
    try:
        started = run(
            ["-m", "celery", "-A", "hiring_portal", "worker", "--pool", "solo"],
            timeout=60,
            **{
                **PRODUCTION,
                "FEISHU_BASE_URL": f"http://{socket.gethostname()}:{port}",
                "HIRING_PORTAL_VAR_DIR": str(tmp_path),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                "REDIS_URL": "",
                "CELERY_BROKER_URL": "memory://",
            },
        )
    finally:
        sandbox.proc.terminate()
        sandbox.proc.wait(timeout=10)

    assert started.returncode != 0
    assert "answers as the Feishu sandbox" in started.stderr


def test_logs_are_one_json_object_a_line_with_delivery_context_and_no_secrets():
    script = (
        "import django, logging; django.setup()\n"
        "log = logging.getLogger('exams.delivery')\n"
        "log.warning('rate limited by Feishu', extra={'result_id': 42, 'attempt': 3, "
        "'feishu_code': 99991400, 'log_id': '20260101120000abc'})\n"
        "log.info('calling with Authorization: Bearer t-g1044ghJKLmnop0987654321xyz')\n"
        "log.info('token %s fetched', 't-g1044ghJKLmnop0987654321xyz')\n"
        f'log.info(\'body {{"app_secret": "{SECRET}"}}\')\n'
        f"log.info('secret alone: %s', '{SECRET}')\n"
        "log.info('broker redis://user:pa55word@redis.internal:6379/0')\n"
        "try:\n"
        f"    raise ValueError('failed with {SECRET}')\n"
        "except ValueError:\n"
        "    log.exception('boom')\n"
    )
    ran = run(["-c", script], **PRODUCTION)

    assert ran.returncode == 0, ran.stderr
    lines = [json.loads(line) for line in ran.stderr.splitlines()]
    by_message = {line["message"]: line for line in lines}
    warning = by_message["rate limited by Feishu"]
    assert warning["level"] == "WARNING"
    assert warning["logger"] == "exams.delivery"
    assert (
        warning["result_id"],
        warning["attempt"],
        warning["feishu_code"],
        warning["log_id"],
    ) == (42, 3, 99991400, "20260101120000abc")
    assert "calling with Authorization: Bearer [redacted]" in by_message
    assert "token [redacted] fetched" in by_message
    assert "secret alone: [redacted]" in by_message
    assert "broker redis://user:[redacted]@redis.internal:6379/0" in by_message
    assert "ValueError: failed with [redacted]" in by_message["boom"]["exception"]
    assert SECRET not in ran.stderr
    assert "t-g1044gh" not in ran.stderr
    assert "pa55word" not in ran.stderr


def test_text_logs_remain_for_development():
    ran = run(
        [
            "-c",
            "import django, logging; django.setup(); logging.getLogger('exams').warning("
            "'late answer ignored', extra={'result_id': 7})",
        ],
        DJANGO_LOG_FORMAT="text",
    )

    assert ran.returncode == 0, ran.stderr
    assert "WARNING exams: late answer ignored [result_id=7]" in ran.stderr


def test_redact_keeps_ordinary_text():
    text = "result 6891565253964859661 of 后端工程师笔试（A卷） synced, exam_id 7001"
    assert redact(text) == text


@pytest.mark.django_db
def test_admin_login_is_locked_after_repeated_failures(client, settings, staff):
    settings.AXES_FAILURE_LIMIT = 3
    login = reverse("admin:login")

    for _ in range(3):
        client.post(login, {"username": staff.username, "password": "guess"})
    right = client.post(
        login,
        {"username": staff.username, "password": "correct horse battery staple"},
    )

    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_login_works_and_failures_before_it_are_forgotten(client, staff):
    login = reverse("admin:login")
    client.post(login, {"username": staff.username, "password": "guess"})

    right = client.post(
        login,
        {"username": staff.username, "password": "correct horse battery staple"},
    )

    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_collectstatic_writes_a_manifest_in_production(tmp_path):
    collected = run(
        ["manage.py", "collectstatic", "--noinput"],
        **PRODUCTION,
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
    )

    assert collected.returncode == 0, collected.stderr
    assert (tmp_path / "static" / "staticfiles.json").is_file()
    assert list((tmp_path / "static" / "admin" / "css").glob("base.*.css.gz"))
