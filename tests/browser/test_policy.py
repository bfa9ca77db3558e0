"""The Content-Security-Policy, in Chromium: the header is on every page, and a
script that got into a page (as an XSS would put it there) does not run."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.embedded]


def test_an_injected_inline_script_does_not_run(
    page, live_server, sender_login, no_policy_violations
):
    log_in(page, live_server, sender_login.username)
    response = page.goto(f"{live_server.url}/admin/exams/examresult/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "document.body.dataset.pwned = 'yes'";
            document.head.appendChild(script);
        }"""
    )
    assert page.locator("body").get_attribute("data-pwned") is None
    for _ in range(50):  # Chromium reports the refusal on the console, soon after
        if any("script-src" in message for message in no_policy_violations):
            break
        page.wait_for_timeout(100)
    assert any("script-src" in m for m in no_policy_violations), no_policy_violations
    no_policy_violations.clear()
