"""Login lockout judged on the client's real address, behind zero, one or two
proxies, with headers a client forges; a username locked only from the address
that guessed, an address locked for everyone only after many failures; the page
says how long."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from hiring_portal.lockout import client_ip

pytestmark = pytest.mark.embedded

LOGIN = reverse("admin:login")
PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "client"),
    [
        (0, "", "203.0.113.7", "203.0.113.7"),
        (0, "198.51.100.9", "203.0.113.7", "203.0.113.7"),  # no proxy: header ignored
        (1, "203.0.113.7", "10.0.0.2", "203.0.113.7"),  # nginx appended the client
        (1, "6.6.6.6, 203.0.113.7", "10.0.0.2", "203.0.113.7"),  # forged entry first
        (2, "203.0.113.7, 10.0.0.1", "10.0.0.2", "203.0.113.7"),  # LB, then nginx
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.1", "10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.2", "10.0.0.2"),  # bypassed a proxy: connecting
        (1, "", "10.0.0.2", "10.0.0.2"),
    ],
)
def test_the_client_is_as_many_entries_from_the_right_as_there_are_proxies(
    settings, proxies, forwarded, remote, client
):
    settings.PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **meta)) == client


def attempt(client, username, password, address, forged="6.6.6.6"):
    """A login through one proxy, from ``address``, with an entry the client
    forged in front of it."""
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=f"{forged}, {address}",
    )


@pytest.fixture
def one_proxy(settings):
    settings.PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 3


@pytest.mark.django_db
def test_guessing_locks_the_username_from_that_address_only(client, one_proxy, staff):
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):  # a new forged entry each time
        attempt(client, staff.username, "guess", "203.0.113.7", forged=forged)
    locked = attempt(client, staff.username, PASSWORD, "203.0.113.7")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert 'id="locked-out"' in page and "60 minutes" in page
    assert "_auth_user_id" not in client.session
    # The colleague, at their own address, is not locked out by the guesser.
    right = attempt(client, staff.username, PASSWORD, "198.51.100.20")
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


@pytest.mark.django_db
def test_an_address_trying_many_usernames_is_locked_for_all(
    client, one_proxy, settings, staff
):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 6
    for n in range(6):  # two names a failure limit's worth short each
        attempt(client, f"someone{n}", "guess", "203.0.113.7")
    locked = attempt(client, staff.username, PASSWORD, "203.0.113.7")
    assert locked.status_code == 429
    assert attempt(client, staff.username, PASSWORD, "198.51.100.20").status_code == 302


@pytest.mark.django_db
def test_the_lockout_page_is_in_chinese_for_a_chinese_browser(client, one_proxy, staff):
    for _ in range(3):
        attempt(client, staff.username, "guess", "203.0.113.7")
    locked = client.post(
        LOGIN,
        {"username": staff.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert locked.status_code == 429
    assert "60 分钟" in locked.content.decode()
