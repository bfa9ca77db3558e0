"""The admin's frame, in Chromium: the product's name in the staff's language,
exam results first, the portal's operators' tools kept to superusers, crumbs
and titles that say where staff are, the import apart from its history, and a
refusal in the admin's own look that names the role needed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests.browser.conftest import LANGUAGES, PASSWORD, language_context, log_in, role
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

NAMES = {"en": "Exam results to Feishu", "zh": "笔试成绩同步"}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_frame_names_the_product_puts_results_first_and_keeps_tools_to_superusers(
    browser, live_server, transactional_db, language
):
    staff = UserFactory(username="mei.lin", is_staff=True, password=PASSWORD)
    staff.groups.add(role("sender"))
    # Given a staff login that someone also let read logins and lockouts ...
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=("view_user", "view_accessattempt"))
    )
    context = language_context(browser, language, 1366)
    page = context.new_page()
    try:
        log_in(page, live_server, staff.username)
        assert page.locator("#site-name").inner_text().strip() == NAMES[language]
        assert page.title().endswith(NAMES[language])
        modules = [
            caption.text_content().strip()
            for caption in page.locator("#content-main .module caption").all()
        ]
        assert modules[0] in ("Exam results", "笔试结果"), modules
        first_row = page.locator("#content-main .app-exams tbody th").first.inner_text()
        assert first_row.strip() in ("Exam results", "笔试结果")
        # ... the logins, groups and lockouts stay the superusers'.
        assert page.locator(".app-auth, .app-axes").count() == 0
        assert page.locator("#recent-actions-module").count() == 0

        page.goto(f"{live_server.url}/admin/exams/examresult/")
        crumbs = [
            c.strip() for c in page.locator(".breadcrumbs").inner_text().split("›")
        ]
        assert len(crumbs) == len(set(crumbs)) == 2, crumbs
        assert page.locator("#content h1").inner_text() == crumbs[-1]
        assert page.locator("#import-link").text_content() in (
            "Import a spreadsheet",
            "导入表格",
        )
        sidebar = page.locator("#nav-sidebar caption").first.text_content()
        assert sidebar.strip() == modules[0]
        response = page.goto(f"{live_server.url}/admin/auth/user/")
        assert response.status == 403

        # A refusal: in the admin's look, naming the roles that would allow it.
        viewer = UserFactory(username="viewer.wang", is_staff=True, password=PASSWORD)
        viewer.groups.add(role("viewer"))
        role("editor")
        context.clear_cookies()
        log_in(page, live_server, viewer.username)
        response = page.goto(f"{live_server.url}/admin/exams/examresult/add/")
        assert response.status == 403
        assert page.locator("#site-name").inner_text().strip() == NAMES[language]
        needed = page.locator("#refused-roles").inner_text()
        for name in {"en": ("editor", "sender"), "zh": ("编辑", "发送")}[language]:
            assert name in needed, needed
    finally:
        context.close()
