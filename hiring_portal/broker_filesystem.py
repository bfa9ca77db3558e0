"""The embedded default's broker never hands a worker a message still being written.

kombu 5.7's filesystem transport publishes a message by creating its file in the
queue folder and then writing it. A consumer lists the folder and takes any file
named for its queue, without the writer's lock, so it can take one that is still
empty: it removes the file, fails to decode it, and the worker stops
("Unrecoverable error: JSONDecodeError('Expecting value: line 1 column 1 (char
0)')", celery/kombu#1551). The message is gone with it. On ``make run`` the
pump's burst of deliver messages met it (bench/first_batch.py): the worker came
back only when hiring_portal.respawn started it again, seconds later, and the
result whose message was lost waited for the sweeper to hand it out again
(``DELIVERY_REDISPATCH_AFTER_SECONDS``, five minutes). The broker's short polling
(``CELERY_BROKER_POLLING_INTERVAL``, 0.05 s) lists the folder 20 times a second,
so a race that kombu's 1 s made rare became common.

Here a message is written under a name no consumer takes (``.<name>.writing``,
in the same folder, so on the same filesystem) and renamed to its queue's name
once written: a rename is atomic, so a consumer finds the whole message or
nothing. Consuming stays kombu's own. The URL still chooses the transport
(``filesystem://``); only how it writes changes.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

# kombu's stubs (celery-types) leave out the filesystem transport.
Channel: Any = filesystem.Channel


def _put_whole(self: Any, queue: str, payload: Any, **kwargs: Any) -> None:
    """Put a message on ``queue``, visible to consumers only once whole."""
    # kombu's name: consumers take the files in the order of their names.
    name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
    folder = self.data_folder_out
    writing = os.path.join(folder, f".{name}.writing")
    try:
        with open(writing, "wb") as handle:
            handle.write(str_to_bytes(dumps(payload)))
        os.replace(writing, os.path.join(folder, name))
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(writing)
        raise ChannelError(f"Cannot add file {name!r} to directory") from error


def install() -> None:
    """Once, in every process that loads the Celery app (web, worker, beat and
    commands all publish)."""
    Channel._put = _put_whole
