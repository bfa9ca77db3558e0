"""The embedded default's broker: a message is seen by a worker whole or not at all."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

pytestmark = pytest.mark.embedded


def broker(folder: Path) -> Connection:
    """A filesystem broker of the test's own, as the embedded default's settings
    make it (the portal's processes, this one included, load the Celery app)."""
    (folder / "queue").mkdir(exist_ok=True)
    (folder / "control").mkdir(exist_ok=True)
    return Connection(
        "filesystem://",
        transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        },
    )


class ConsumedWhileWritten:
    """A message part whose writing lets a worker look at the queue first: what
    the worker takes at that moment, or the error it meets."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.seen: list[Any] = []

    def __json__(self) -> str:  # kombu's JSON encoder calls it while writing
        try:
            message = self.queue.get(block=False)
        except self.queue.Empty:
            self.seen.append("nothing")
        except ValueError as error:  # JSONDecodeError: an empty file taken
            self.seen.append(error)
        else:
            self.seen.append(message.payload)
        return "written"


def test_a_worker_looking_while_a_message_is_written_takes_nothing(tmp_path):
    # Given a worker's queue, and a message being published to it
    with broker(tmp_path) as connection:
        queue = connection.SimpleQueue("feishu")
        part = ConsumedWhileWritten(queue)
        channel = connection.default_channel

        # When the worker looks at the queue while the message is being written
        channel._put("feishu", {"body": "deliver 1", "part": part})

        # Then it found nothing to take (kombu's own transport handed it the
        # file still empty: JSONDecodeError, and the message was gone)
        assert part.seen == ["nothing"]
        # and the message is there once written, whole
        assert channel._get("feishu") == {"body": "deliver 1", "part": "written"}


def _publish(folder: Path, count: int) -> None:
    # A process of the portal's own: it loads the Celery app, as web, worker and
    # beat do.
    import hiring_portal  # noqa: F401

    with broker(folder) as connection:
        queue = connection.SimpleQueue("feishu")
        for n in range(count):
            queue.put({"result_id": n, "padding": "x" * 2000})


def test_every_message_another_process_publishes_arrives_whole(tmp_path):
    # Given a process publishing a burst of messages (as the pump does)
    count = 300
    publisher = multiprocessing.get_context("spawn").Process(
        target=_publish, args=(tmp_path, count)
    )
    received: set[int] = set()
    with broker(tmp_path) as connection:
        queue = connection.SimpleQueue("feishu")
        publisher.start()
        # When a worker takes them as fast as it can while they are written
        deadline = time.monotonic() + 30
        while len(received) < count and time.monotonic() < deadline:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                if not publisher.is_alive() and publisher.exitcode:
                    break
                continue
            received.add(message.payload["result_id"])
            message.ack()
        publisher.join(timeout=10)

    # Then every one arrived, each decoded whole
    assert publisher.exitcode == 0
    assert received == set(range(count))
