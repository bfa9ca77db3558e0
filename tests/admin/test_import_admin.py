"""Importing through the admin, as staff do: upload, preview, confirm in another
request, background progress, and what staff are told."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exams.models import ExamResult, ImportBatch
from exams.tasks import import_batch_run_task
from tests.factories import generated_csv

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
LIST_URL = reverse("admin:exams_examresult_changelist")
IMPORT_URL = reverse("admin:exams_examresult_import")


def batch_url(batch) -> str:
    return reverse("admin:exams_examresult_import_batch", args=[batch.pk])


def upload(client, content: bytes, name: str = "results.csv"):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content)})


def test_the_change_list_offers_import_and_export(client, staff):
    client.force_login(staff)

    page = client.get(LIST_URL).content.decode()

    assert 'id="import-link"' in page
    assert "Export CSV" in page
    assert "Export XLSX" in page


def test_preview_then_confirm_in_two_requests_imports_the_sample(client, staff):
    client.force_login(staff)
    content = (SAMPLES / "exam_results_bad.csv").read_bytes()

    response = upload(client, content, "exam_results_bad.csv")
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == batch_url(batch)

    page = client.get(batch_url(batch)).content.decode()
    assert not ExamResult.objects.exists()
    assert page.count('class="import-error"') == 8
    assert "95.55 has more than one decimal place" in page
    assert 'name="_confirm"' in page

    response = client.post(batch_url(batch), {"_confirm": "1"}, follow=True)

    assert response.status_code == 200
    text = response.content.decode()
    assert "1 created" in text
    assert "8 invalid" in text
    result = ExamResult.objects.get()
    assert result.exam_resource_name == '=HYPERLINK("http://x")'
    assert result.import_batch_id == batch.pk
    batch.refresh_from_db()
    assert batch.status == "done"
    assert bytes(batch.content) == b""
    assert batch.notified_at is not None


def test_an_unreadable_file_is_refused_on_the_upload_page_and_nothing_is_kept(
    client, staff
):
    client.force_login(staff)

    response = upload(client, b"application_id,exam,score\n1,x,2\n")

    assert response.status_code == 200
    text = response.content.decode()
    assert "Unknown column(s): “exam”" in text
    assert "Missing required column(s): exam_resource_name" in text
    assert not ImportBatch.objects.exists()


def test_changed_rows_are_shown_with_old_and_new_values(
    client, staff, exam_result_factory
):
    exam_result_factory(application_id="1", exam_resource_name="笔试", score="60.0")
    client.force_login(staff)

    upload(client, "application_id,exam_resource_name,score\n1,笔试,61.5\n".encode())
    page = client.get(batch_url(ImportBatch.objects.get())).content.decode()

    assert 'class="import-change"' in page
    assert "<del>60.0</del> → <ins>61.5</ins>" in page


def test_cancel_drops_the_upload(client, staff):
    client.force_login(staff)
    upload(client, (SAMPLES / "exam_results.csv").read_bytes())
    batch = ImportBatch.objects.get()

    response = client.post(batch_url(batch), {"_cancel": "1"})

    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "cancelled"
    assert not ExamResult.objects.exists()


def test_another_staff_member_cannot_see_or_confirm_someone_elses_import(
    client, staff, sender
):
    client.force_login(staff)
    upload(client, (SAMPLES / "exam_results.csv").read_bytes())
    batch = ImportBatch.objects.get()
    client.force_login(sender)

    assert client.get(batch_url(batch)).status_code == 404
    assert client.post(batch_url(batch), {"_confirm": "1"}).status_code == 404
    assert not ExamResult.objects.exists()


def test_import_and_send_needs_the_send_permission(client, staff):
    client.force_login(staff)
    upload(client, (SAMPLES / "exam_results.csv").read_bytes())
    batch = ImportBatch.objects.get()
    assert 'name="send"' not in client.get(batch_url(batch)).content.decode()

    response = client.post(batch_url(batch), {"_confirm": "1", "send": "on"})

    assert response.status_code == 403
    assert not ExamResult.objects.exists()


def test_import_and_send_queues_the_results_for_delivery(client, sender):
    client.force_login(sender)
    upload(client, (SAMPLES / "exam_results.csv").read_bytes())
    batch = ImportBatch.objects.get()

    response = client.post(
        batch_url(batch), {"_confirm": "1", "send": "on"}, follow=True
    )

    assert "20 queued for delivery to Feishu" in response.content.decode()
    assert ExamResult.objects.filter(status="pending").count() == 20


def test_staff_without_the_add_permission_cannot_import(client, db):
    from tests.factories import UserFactory

    viewer = UserFactory(is_staff=True, perms=["view_examresult"])
    client.force_login(viewer)

    assert client.get(IMPORT_URL).status_code == 403
    assert 'id="import-link"' not in client.get(LIST_URL).content.decode()


def test_the_preview_of_a_large_file_shows_counts_errors_paged_and_one_page_of_rows(
    client, staff
):
    client.force_login(staff)
    upload(client, generated_csv(12_000, bad_every=40), "large.csv")
    batch = ImportBatch.objects.get()

    response = client.get(batch_url(batch))

    page = response.content.decode()
    assert batch.total_rows == 12_000
    assert batch.invalid_count == 300
    assert page.count('class="import-error"') == 100
    assert page.count('class="import-row"') == 100
    assert "Page 1 of 3 (300 in all)" in page
    assert len(response.content) < 200_000
    page3 = client.get(batch_url(batch), {"errors_page": 3}).content.decode()
    assert page3.count('class="import-error"') == 100
    assert "<td>11962</td>" in page3


def test_a_large_file_imports_in_the_background_with_a_progress_page(
    client, staff, settings, django_capture_on_commit_callbacks
):
    settings.EXAMS_IMPORT_BACKGROUND_ROWS = 100
    client.force_login(staff)
    upload(client, generated_csv(250), "big.csv")
    batch = ImportBatch.objects.get()
    assert "in the background" in client.get(batch_url(batch)).content.decode()

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(batch_url(batch), {"_confirm": "1"}, follow=True)

    page = response.content.decode()
    assert 'id="import-progress"' in page
    assert "import_progress.js" in page
    progress_url = reverse("admin:exams_examresult_import_progress", args=[batch.pk])
    assert client.get(progress_url).json()["status"] == "queued"
    assert not ExamResult.objects.exists()

    import_batch_run_task(batch.pk)  # what the worker runs

    state = client.get(progress_url).json()
    assert state["finished"] is True
    assert state["processed"] == state["total"] == 250
    assert "250 created" in state["message"]
    # Staff are told on the exam results list, once.
    assert "250 created" in client.get(LIST_URL).content.decode()
    assert "250 created" not in client.get(LIST_URL).content.decode()
    assert ExamResult.objects.count() == 250


def test_the_progress_script_is_served_by_the_portal(client, staff):
    from django.contrib.staticfiles import finders

    path = finders.find("exams/import_progress.js")

    assert path is not None
    assert "fetch(" in Path(path).read_text()


def test_every_import_is_recorded_with_who_when_and_counts(client, staff, superuser):
    client.force_login(staff)
    upload(client, (SAMPLES / "exam_results.csv").read_bytes(), "exam_results.csv")
    client.post(batch_url(ImportBatch.objects.get()), {"_confirm": "1"})
    client.force_login(superuser)

    page = client.get(reverse("admin:exams_importbatch_changelist")).content.decode()

    assert "exam_results.csv" in page
    assert staff.username in page
    assert '<td class="field-created_count">20</td>' in page
    assert client.get(reverse("admin:exams_importbatch_add")).status_code == 403
