import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiring_portal.settings")

application = get_wsgi_application()

# Production must not serve a portal that delivers into the sandbox.
from hiring_portal.feishu_target import refuse_sandbox_server  # noqa: E402

refuse_sandbox_server()
