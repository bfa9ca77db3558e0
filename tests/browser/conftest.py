"""The portal in Chromium: Debian's /usr/bin/chromium driven by Playwright against
the live server, with the Feishu sandbox and a real Celery worker (with beat)
started as processes by the delivery tests' fixtures.

Playwright's sync API runs an event loop in the test's thread, which Django's
async-safety check would refuse for ORM calls: DJANGO_ALLOW_ASYNC_UNSAFE allows
them (the test thread is not serving requests; the live server's thread is).
"""

# The delivery tests' fixtures are imported by name, then requested as arguments.
# ruff: noqa: F401, F811

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission

from exams.roles import ROLES
from tests.delivery.conftest import sandbox, sandbox_server, start_worker, wait_until
from tests.factories import FeishuIdentityFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
# Every run saves its screenshots under var/ (ignored by git); `make screenshots`
# runs the browser tests with this pointed at docs/screenshots/ to refresh the
# README's pictures, so an ordinary test run leaves the work tree clean.
SCREENSHOTS = Path(
    os.environ.get(
        "HIRING_PORTAL_SCREENSHOTS",
        Path(__file__).resolve().parents[2] / "var" / "screenshots",
    )
)
PASSWORD = "correct horse battery staple"


def _django_order(item: pytest.Item) -> int:
    """pytest-django's order: database tests, then transactional ones, then the rest."""
    names = getattr(item, "fixturenames", ())
    marker = item.get_closest_marker("django_db")
    if (
        "transactional_db" in names
        or "live_server" in names
        or (
            marker
            and (
                marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
            )
        )
    ):
        return 1
    return 0 if marker or "db" in names else 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # pytest-django puts transactional tests after the others, whose data (the
    # roles made by a migration) their flush would erase. pytest then groups tests
    # by pytest-playwright's session-scoped browser_name parameter, which moves
    # these browser tests back among the database tests: restore the order.
    items.sort(key=_django_order)
    # A newcomer without Chromium gets skips with the install command; CI (which
    # installs it) fails instead of skipping.
    if (
        shutil.which(CHROMIUM)
        or os.environ.get("HIRING_PORTAL_REQUIRE_SERVICES") == "1"
    ):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install chromium")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any],
) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-gpu",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "locale": "en-US",
        "viewport": {"width": 1360, "height": 900},
    }


@pytest.fixture(autouse=True)
def no_policy_violations(page: Any) -> Iterator[list[str]]:
    """Every page of every browser test runs under the portal's
    Content-Security-Policy: a script, style or image it blocks fails the test
    (a test that provokes one on purpose takes it off the list)."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield refused
    assert not refused, "\n".join(refused)


@pytest.fixture
def portal(start_worker, live_server) -> Any:
    """The live server with a worker (and beat) delivering to the sandbox."""
    start_worker()
    return live_server


@pytest.fixture
def sender_login(transactional_db: None) -> Any:
    """A staff member in the "sender" role, with a Feishu identity for the app."""
    user = UserFactory(username="mei.lin", is_staff=True, password=PASSWORD)
    user.groups.add(role("sender"))
    FeishuIdentityFactory(user=user, open_id="ou_f476cb099ac9227c9bae09ce46112579")
    return user


def role(name: str) -> Group:
    """The role's group. transactional_db empties the tables after each test,
    groups made by the roles migration included, so they are made again here."""
    group, _created = Group.objects.get_or_create(name=name)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="exams", codename__in=ROLES[name]
        )
    )
    return group


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def admin_page(page: Any, portal: Any, sender_login: Any) -> Iterator[Any]:
    log_in(page, portal, sender_login.username)
    yield page


# Staff reading the admin in English or in Chinese, against the demo world.
LANGUAGES = {
    "en": {"locale": "en-US", "accept": "en"},
    "zh": {"locale": "zh-CN", "accept": "zh-Hans,zh;q=0.9"},
}


def language_context(browser: Any, language: str, width: int = 1360) -> Any:
    """A browser context that reads the admin in ``language`` (a key of
    LANGUAGES), its window ``width`` px wide."""
    settings = LANGUAGES[language]
    return browser.new_context(
        locale=settings["locale"],
        extra_http_headers={"Accept-Language": settings["accept"]},
        viewport={"width": width, "height": 900},
    )


@pytest.fixture
def demo(sandbox):
    sandbox.load_world("demo")
    return sandbox


@pytest.fixture(params=sorted(LANGUAGES))
def language(request):
    return request.param


@pytest.fixture
def staff_page(browser, portal, sender_login, demo, language):
    context = language_context(browser, language)
    page = context.new_page()
    log_in(page, portal, sender_login.username)
    yield page
    context.close()
