"""Event pushes to a callback URL, the way Feishu sends them (feishu-candidates.md
sections 6-7): a v2.0 envelope with a fresh ``event_id`` and the Verification
Token in ``header.token``; encrypted and signed when an Encrypt Key is set; POSTed
from a background thread with a 3 s timeout; anything but HTTP 200 is retried
after each of ``retry_delays`` seconds (Feishu: 15 s, 5 min, 1 h, 6 h).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from feishu.events import encrypt, signature
from feishu.sandbox.protocol import JsonObject, now_ms

TIMEOUT_SECONDS = 3.0
# Callbacks go straight to the URL, never through an environment proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

EVENT_DEFAULTS: dict[str, Any] = {
    "callback_url": None,
    "verification_token": "",
    "encrypt_key": "",
    "retry_delays": [15, 300, 3600, 21600],
    "app_id": "cli_sandbox",
    "tenant_key": "2ca1d211f64f6438",
    "push_on_terminate": True,
}


@dataclass
class Push:
    event_id: str
    event_type: str
    application_ids: list[str]
    envelope: JsonObject
    attempts: list[JsonObject] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return any(a["status"] == 200 for a in self.attempts)

    def to_json(self) -> JsonObject:
        return {
            "event_id": self.event_id,
            "type": self.event_type,
            "application_ids": self.application_ids,
            "attempts": list(self.attempts),
            "delivered": self.delivered,
        }


class EventPusher:
    """Has its own lock: pushes start while the sandbox's lock is held."""

    def __init__(self, startup: JsonObject | None = None) -> None:
        self._lock = threading.Lock()
        # What the sandbox was started with (--events-callback …): reset keeps it.
        self.startup: dict[str, Any] = {**EVENT_DEFAULTS, **(startup or {})}
        self.config: dict[str, Any] = dict(self.startup)
        self.pushes: dict[str, Push] = {}
        self._stop = threading.Event()

    def reset(self) -> None:
        with self._lock:
            self._stop.set()  # pending retries of the old pushes give up
            self._stop = threading.Event()
            self.config = dict(self.startup)
            self.pushes.clear()

    def configure(self, data: JsonObject) -> JsonObject:
        unknown = sorted(set(data) - set(EVENT_DEFAULTS))
        if unknown:
            raise ValueError(f"unknown event settings: {unknown}")
        delays = data.get("retry_delays", self.config["retry_delays"])
        if not isinstance(delays, list) or not all(
            isinstance(d, int | float) and d >= 0 for d in delays
        ):
            raise ValueError("retry_delays must be a list of seconds")
        url = data.get("callback_url")
        if url is not None and not str(url).startswith(("http://", "https://")):
            raise ValueError("callback_url must be an http(s) URL")
        with self._lock:
            self.config.update(data)
            shown = dict(self.config)
        shown["encrypt_key"] = "***" if shown["encrypt_key"] else ""
        return shown

    @property
    def push_on_terminate(self) -> bool:
        return bool(self.config["push_on_terminate"])

    def history(self) -> list[JsonObject]:
        with self._lock:
            return [p.to_json() for p in self.pushes.values()]

    # -- sending ------------------------------------------------------------

    def push(
        self, event_type: str, event: JsonObject, application_ids: list[str]
    ) -> str | None:
        """Queue one event; None when no callback URL is configured."""
        with self._lock:
            if not self.config["callback_url"]:
                return None
            event_id = secrets.token_hex(16)
            envelope = {
                "schema": "2.0",
                "header": {
                    "event_id": event_id,
                    "event_type": event_type,
                    "create_time": str(now_ms()),
                    "token": self.config["verification_token"],
                    "app_id": self.config["app_id"],
                    "tenant_key": self.config["tenant_key"],
                },
                "event": event,
            }
            self.pushes[event_id] = Push(
                event_id, event_type, application_ids, envelope
            )
        self._start(event_id)
        return event_id

    def replay(self, event_id: str) -> bool:
        """Send an event again (a duplicate), with its own retries."""
        with self._lock:
            if event_id not in self.pushes:
                return False
        self._start(event_id)
        return True

    def _start(self, event_id: str) -> None:
        with self._lock:
            stop = self._stop
            delays = [float(d) for d in self.config["retry_delays"]]
        threading.Thread(
            target=self._deliver, args=(event_id, delays, stop), daemon=True
        ).start()

    def _deliver(
        self, event_id: str, delays: list[float], stop: threading.Event
    ) -> None:
        for delay in [0.0, *delays]:
            if delay and stop.wait(delay):
                return
            with self._lock:
                push = self.pushes.get(event_id)
                if push is None or stop.is_set():
                    return
                envelope = push.envelope
            status, error = self._post(envelope)
            with self._lock:
                if stop.is_set():
                    return
                push.attempts.append({"status": status, "at": now_ms(), "error": error})
            if status == 200:
                return

    def _request(self, payload: JsonObject) -> urllib.request.Request:
        """The HTTP request Feishu would send for ``payload``, signed now."""
        with self._lock:
            url = str(self.config["callback_url"])
            key = str(self.config["encrypt_key"] or "")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if key:
            body = json.dumps({"encrypt": encrypt(payload, key)}).encode()
            timestamp = str(int(time.time()))
            nonce = secrets.token_hex(8)
            headers.update(
                {
                    "X-Lark-Request-Timestamp": timestamp,
                    "X-Lark-Request-Nonce": nonce,
                    "X-Lark-Signature": signature(timestamp, nonce, key, body),
                }
            )
        else:
            body = json.dumps(payload, ensure_ascii=False).encode()
        # configure() allows only http(s) URLs.
        return urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310

    def _post(self, payload: JsonObject) -> tuple[int | None, str | None]:
        """``(HTTP status, None)``, or ``(None, error)`` when no answer came."""
        status, text = self._exchange(payload)
        return (None, text) if status is None else (status, None)

    def _exchange(self, payload: JsonObject) -> tuple[int | None, str]:
        """``(status, body)``; ``(None, error)`` when the URL did not answer."""
        try:
            request = self._request(payload)
            with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as answer:
                return answer.status, answer.read(65536).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(65536).decode("utf-8", "replace")
        except (OSError, ValueError) as exc:
            return None, f"{type(exc).__name__}: {exc}"

    def verify_url(self) -> JsonObject:
        """Send the url_verification handshake; did the answer echo the challenge?"""
        with self._lock:
            if not self.config["callback_url"]:
                raise ValueError("no callback_url configured")
            token = self.config["verification_token"]
        challenge = secrets.token_urlsafe(16)
        status, text = self._exchange(
            {"challenge": challenge, "token": token, "type": "url_verification"}
        )
        try:
            echoed = status == 200 and json.loads(text).get("challenge") == challenge
        except (ValueError, AttributeError):
            echoed = False
        return {
            "status": status,
            "challenge": challenge,
            "answer": text,
            "echoed": echoed,
        }
