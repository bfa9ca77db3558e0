"""Which queue each task goes to, and what beat runs when."""

from .audit import EXAMS_ALERT_INTERVAL_SECONDS
from .candidates import CANDIDATE_WORKLIST_POLL_SECONDS
from .delivery import DELIVERY_SWEEP_INTERVAL_SECONDS

# Feishu calls get their own queue, so imports and other work never delay them.
CELERY_TASK_ROUTES = {
    f"exams.tasks.{name}": {"queue": "feishu"}
    for name in (
        "exam_results_deliver_task",
        "exam_result_deliver_task",
        "exam_result_upload_report_task",
        "exam_results_reconcile_task",
        "exam_results_check_feishu_task",
        "exam_results_dispatch_due_task",
        "delivery_sweep_task",
        "candidate_applications_lookup_task",
        "feishu_event_handle_task",
    )
}

CELERY_BEAT_SCHEDULE = {
    "sweep-deliveries": {
        "task": "exams.tasks.delivery_sweep_task",
        "schedule": DELIVERY_SWEEP_INTERVAL_SECONDS,
        "options": {"expires": DELIVERY_SWEEP_INTERVAL_SECONDS},
    },
    "expire-import-previews": {
        "task": "exams.tasks.import_batches_expire_task",
        "schedule": 3600.0,
        "options": {"expires": 600},
    },
    "sweep-imports": {
        "task": "exams.tasks.import_batches_sweep_task",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "poll-worklist": {
        "task": "exams.tasks.worklist_poll_task",
        "schedule": float(CANDIDATE_WORKLIST_POLL_SECONDS),
        "options": {"expires": CANDIDATE_WORKLIST_POLL_SECONDS},
    },
    "sweep-events": {
        "task": "exams.tasks.feishu_events_sweep_task",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "check-alerts": {
        "task": "exams.tasks.alerts_check_task",
        "schedule": EXAMS_ALERT_INTERVAL_SECONDS,
        "options": {"expires": EXAMS_ALERT_INTERVAL_SECONDS},
    },
}
