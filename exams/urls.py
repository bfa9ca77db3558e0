"""The reviewers' audit page, under the admin (exams.admin_audit)."""

from django.contrib import admin
from django.urls import path

from .admin.review import audit_export_view, audit_review_view

app_name = "exams_audit"

urlpatterns = [
    path("", admin.site.admin_view(audit_review_view), name="review"),
    path("export/", admin.site.admin_view(audit_export_view), name="export"),
]
