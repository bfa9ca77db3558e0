"""Fixtures shared by the whole suite.

With HIRING_PORTAL_REQUIRE_SERVICES=1 (what .ci/run sets) the run stops at once,
failing, when the database is not PostgreSQL or Redis does not answer: CI must never
pass by quietly testing the embedded default only.
"""

from __future__ import annotations

import contextlib
import os

import pytest
from django.conf import settings
from django.utils import translation

from tests.factories import (
    ExamResultFactory,
    FeishuIdentityFactory,
    UserFactory,
    suite_papers_create,
)


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("HIRING_PORTAL_REQUIRE_SERVICES") != "1":
        return
    problems = []
    if not settings.IS_POSTGRESQL:
        problems.append(
            f"DATABASE_URL does not point at PostgreSQL "
            f"(engine {settings.DATABASES['default']['ENGINE']})"
        )
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is not set")
    else:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=3).ping()
        except redis.RedisError as error:
            problems.append(f"Redis at REDIS_URL does not answer: {error}")
    if settings.IS_POSTGRESQL:
        import psycopg

        db = settings.DATABASES["default"]
        try:
            psycopg.connect(
                host=db["HOST"],
                port=db["PORT"] or 5432,
                user=db["USER"],
                password=db["PASSWORD"],
                dbname="postgres",
                connect_timeout=3,
            ).close()
        except psycopg.Error as error:
            problems.append(f"PostgreSQL does not answer: {error}")
    if problems:
        pytest.exit(
            "HIRING_PORTAL_REQUIRE_SERVICES=1 but: " + "; ".join(problems), returncode=3
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """A failed test that started Celery processes reports the end of their logs:
    a failure seen once in CI says what the worker was doing."""
    report = yield
    if report.failed and call.when in ("call", "setup"):
        for process in getattr(item, "celery_processes", ()):
            with contextlib.suppress(OSError):
                report.sections.append(
                    (f"{process.log.name} (last lines)", process.output(6000))
                )
    return report


@pytest.fixture(autouse=True, scope="session")
def _rate_limiter_starts_fresh():
    """The suite's Redis starts empty: the limiter's windows are known to be empty
    rather than lost (which would pause the candidate lookups for a minute)."""
    if not settings.REDIS_URL:
        return
    from django.test import override_settings

    from exams.gateway.limiter import limiter_start_fresh

    for app_id in {settings.FEISHU_APP_ID, "cli_sandbox"}:
        with override_settings(FEISHU_APP_ID=app_id):
            limiter_start_fresh()


_DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
}


@pytest.fixture(autouse=True)
def _suite_papers_in_the_catalogue(request):
    """A result is entered only for a paper in the catalogue: the papers the
    suite names are there (``tests.factories.SUITE_PAPERS``) for every test that
    has a database, made again after a transactional test's flush."""
    if not (
        request.node.get_closest_marker("django_db")
        or _DATABASE_FIXTURES & set(request.fixturenames)
    ):
        return
    # pytest-django's own helper: the database as this test asked for it
    # (rolled back, or transactional).
    request.getfixturevalue("_django_db_helper")
    suite_papers_create()


@pytest.fixture(autouse=True)
def _language_of_the_settings():
    """Each test starts in the default language: a request read in Chinese leaves
    Chinese active in the thread that served it (the test's own, with Django's
    test client), and a later test that words a message would read it there."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Hashing with PBKDF2 costs ~0.3 s a user; the suite makes hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


ENTER_RESULTS = (
    "add_examresult",
    "change_examresult",
    "view_examresult",
    "delete_examresult",
    "export_examresult",
)


def staff_member(*perms: str):
    """A staff member with these permissions and a Feishu identity for the app."""
    user = UserFactory(is_staff=True, perms=list(perms))
    FeishuIdentityFactory(user=user)
    return user


@pytest.fixture
def staff(db):
    """A staff member who may enter results."""
    return staff_member(*ENTER_RESULTS)


@pytest.fixture
def sender(db):
    """A staff member who may also send results to Feishu."""
    return staff_member(*ENTER_RESULTS, "send_examresult")


@pytest.fixture
def superuser(db):
    user = UserFactory(is_staff=True, is_superuser=True)
    FeishuIdentityFactory(user=user)
    return user


@pytest.fixture
def exam_result_factory(db):
    return ExamResultFactory
