"""/healthz: what load balancers probe."""

from __future__ import annotations

import json

import pytest

from hiring_portal.celery import app as celery_app

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_healthz_reports_database_broker_and_cache_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "broker": True,
        "cache": True,
    }
    assert response["Cache-Control"] == "no-store"


def test_healthz_answers_probes_with_any_host_header_and_over_plain_http(
    client, settings
):
    # Given production's redirect to HTTPS and a host list the probe is not on
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["portal.example.com"]

    # When a load balancer probes by the instance's address over http
    probe = client.get("/healthz", HTTP_HOST="10.0.3.17:8000")
    page = client.get("/admin/", HTTP_HOST="portal.example.com")
    stranger = client.get("/admin/", HTTP_HOST="10.0.3.17:8000")

    # Then the probe is answered, while pages still redirect and strangers are refused
    assert probe.status_code == 200
    assert page.status_code == 301
    assert page["Location"].startswith("https://portal.example.com/")
    assert stranger.status_code == 400


def test_healthz_is_503_when_the_broker_is_down_and_shows_no_url_or_password(
    client, monkeypatch
):
    monkeypatch.setitem(
        celery_app.conf, "broker_url", "redis://:hunter2-secret@127.0.0.1:1/0"
    )
    monkeypatch.setitem(celery_app.conf, "broker_write_url", None)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    text = json.dumps(body)
    assert "hunter2" not in text
    assert "redis://" not in text


def test_healthz_is_503_when_the_cache_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    cache_check = response.json()["checks"]["cache"]
    assert cache_check["ok"] is False
    assert cache_check["error"] == "ConnectionError"


def test_healthz_answers_head_and_leaves_other_methods_to_the_site(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code != 200
