"""The Celery app. Configuration comes from Django settings (``CELERY_*``)."""

import logging
import os
from logging.config import dictConfig
from typing import Any

from celery import Celery, signals
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from hiring_portal import broker_filesystem, broker_reconnect, task_connections
from hiring_portal.feishu_target import refuse_sandbox_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiring_portal.settings")
broker_reconnect.install()
broker_filesystem.install()

app = Celery("hiring_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
task_connections.install(app)


@signals.setup_logging.connect
def _use_django_logging(**kwargs: Any) -> None:
    """Worker and beat log through settings.LOGGING (JSON in production, secrets
    redacted) instead of Celery's own handlers: connecting here stops Celery from
    configuring logging itself."""
    dictConfig(settings.LOGGING)


@signals.worker_init.connect
def _refuse_sandbox_in_production(**kwargs: Any) -> None:
    try:
        refuse_sandbox_server()
    except ImproperlyConfigured as error:
        # Celery logs and swallows exceptions from signal handlers; the worker
        # must not start, so leave with an error status instead.
        logging.getLogger(__name__).critical("%s", error)
        raise SystemExit(1) from error


@signals.worker_ready.connect
def _sweep_on_start(sender: Any = None, **kwargs: Any) -> None:
    """A worker that (re)starts sweeps at once: results queued while no worker
    ran, or claimed by one that died, go out now rather than at the next beat."""
    app.send_task("exams.tasks.delivery_sweep_task")
