"""The admin in Simplified Chinese: the language follows the browser, every
string has a translation, and Feishu's own messages stay as Feishu sent them."""

from pathlib import Path

import pytest
from django.urls import reverse

from exams.models import SyncAttempt

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

PO = Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def test_every_message_has_a_chinese_translation():
    from babel.messages.pofile import read_po

    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh_Hans")
    untranslated = [
        m.id
        for m in catalog
        if m.id and not (m.string if isinstance(m.string, str) else all(m.string))
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []


KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
SOURCES = ("exams", "hiring_portal", "feishu")


def source_messages() -> set[tuple[str | None, str]]:
    """Every (context, msgid) the code and templates mark for translation: what
    ``makemessages`` would find, extracted in pure Python (Django's templatize
    turns a template into the gettext calls xgettext reads)."""
    import io

    from babel.messages.extract import extract_python
    from django.utils.translation.template import templatize

    found: set[tuple[str | None, str]] = set()
    root = PO.parents[3]
    for folder in SOURCES:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix == ".py":
                source = path.read_bytes()
            elif path.suffix in (".html", ".txt") and "templates" in path.parts:
                source = templatize(path.read_text(), origin=str(path)).encode()
            else:
                continue
            for _line, _func, message, _comments, *rest in extract_python(
                io.BytesIO(source), KEYWORDS, [], {}
            ):
                context = rest[0] if rest else None
                msgid = message[0] if isinstance(message, tuple) else message
                if msgid:
                    found.add((context, msgid))
    return found


def test_every_message_in_the_code_is_in_the_catalog():
    """Strings added since the last ``makemessages`` show up here, not as English
    in a Chinese page."""
    from babel.messages.pofile import read_po

    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh_Hans")
    missing = sorted(
        msgid
        for context, msgid in source_messages()
        if catalog.get(msgid, context=context) is None
        and not any(
            isinstance(m.id, tuple) and m.id[0] == msgid and m.context == context
            for m in catalog
        )
    )
    assert missing == [], (
        "run `manage.py makemessages -l zh_Hans --no-obsolete` and translate"
    )


def test_the_dashboard_and_result_list_render_in_chinese(
    client, superuser, exam_result_factory
):
    exam_result_factory(status="synced", exam_id="70001")
    client.force_login(superuser)
    index = client.get(reverse("admin:index"), **ZH).content.decode()
    assert "按状态统计的笔试结果" in index
    assert "已同步" in index
    assert "最早的待同步结果" in index
    listing = client.get(reverse("admin:exams_examresult_changelist"), **ZH)
    text = listing.content.decode()
    assert "投递 ID" in text
    assert "试卷名称" in text
    assert "笔试分数" in text


def test_feishu_messages_stay_as_sent_and_our_explanation_is_translated(
    client, superuser, exam_result_factory
):
    result = exam_result_factory(status="failed")
    SyncAttempt.objects.create(
        result=result,
        outcome="permanent",
        http_status=400,
        feishu_code=1002002,
        feishu_msg="param error: operator_id invalid",
    )
    client.force_login(superuser)
    page = client.get(
        reverse("admin:exams_examresult_change", args=[result.pk]), **ZH
    ).content.decode()
    assert "param error: operator_id invalid" in page
    assert "参数错误：飞书拒绝了某个字段的值" in page
    assert "变更历史" in page
    assert "飞书调用记录" in page


def test_english_stays_the_default(client, superuser):
    client.force_login(superuser)
    index = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content
    assert b"Exam results by status" in index
