"""The Procfile's `events` process: Feishu's events over the long connection."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from exams.candidates.long_connection import long_connection_run


class Command(BaseCommand):
    help = (
        "Receive Feishu's events (a candidate's stage changed, applications deleted) "
        "over the long connection, when FEISHU_EVENT_MODE=long_connection. In any "
        "other mode it says where events go and waits, so that a process manager "
        "running every Procfile line keeps running."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        mode = settings.FEISHU_EVENT_MODE
        if mode != "long_connection":
            where = (
                "at the callback /feishu/events/"
                if mode == "callback"
                else "nowhere (FEISHU_EVENT_MODE=off): the worklist is polled"
            )
            self.stdout.write(f"FEISHU_EVENT_MODE={mode}: events arrive {where}.")
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            stop.wait()
            return
        self.stdout.write("Receiving Feishu's events over the long connection.")
        long_connection_run()
