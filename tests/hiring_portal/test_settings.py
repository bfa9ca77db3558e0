import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.embedded
ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "FEISHU_"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "hiring_portal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    run = load_settings(DJANGO_DEBUG="false")
    assert run.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in run.stderr


def test_production_refuses_to_start_without_feishu_credentials():
    run = load_settings(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 50)
    assert run.returncode != 0
    assert "FEISHU_APP_ID and FEISHU_APP_SECRET must be set" in run.stderr


def test_production_starts_with_its_secrets():
    run = load_settings(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 50,
        FEISHU_APP_ID="cli_a",
        FEISHU_APP_SECRET="s",
    )
    assert run.returncode == 0, run.stderr


def test_with_no_environment_the_embedded_default_is_used():
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, "
            "s.CACHES['default']['BACKEND'])",
        ],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "hiring_portal.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.cache.backends.db.DatabaseCache",
    ]
