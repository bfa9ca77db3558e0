from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from exams.views import feishu_events_view

# The refused page in the admin's look, naming the role that would allow it.
handler403 = "exams.admin.refused.permission_denied"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Before the admin's own URLs: the reviewers' audit page lives under /admin/.
    path("admin/exams/audit/", include("exams.urls")),
    path("admin/", admin.site.urls),
    path("feishu/events/", feishu_events_view, name="feishu_events"),
]
