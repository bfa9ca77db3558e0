import pytest
from django.core.management import call_command

from exams.models import ExamResult

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_the_demo_login_comes_with_results_in_every_state_once(capsys, settings):
    settings.DEBUG = True  # the demo login exists for development only
    call_command("create_demo_user")
    statuses = set(ExamResult.objects.values_list("status", flat=True))
    assert statuses == {"draft", "pending", "synced", "failed", "unknown"}
    count = ExamResult.objects.count()
    call_command("create_demo_user")
    assert ExamResult.objects.count() == count
    assert "Demo login: demo / " in capsys.readouterr().out
