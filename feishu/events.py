"""Feishu's event callback (feishu-candidates.md sections 6-7), Django-free.

:func:`parse_callback` takes the raw body and headers of a POST to the request
URL and returns what it means, or raises :class:`EventRejected`:

- ``url_verification`` -> :class:`UrlVerification` (echo ``challenge`` within 1 s);
- ``hire.application.stage_changed_v1`` -> :class:`StageChanged`;
- ``hire.application.deleted_v1`` -> :class:`ApplicationsDeleted`;
- any other event -> :class:`OtherEvent` (acknowledge it, do nothing).

With an Encrypt Key the body is ``{"encrypt": base64(iv + AES-256-CBC(json))}``
with ``key = sha256(encrypt key)`` and PKCS7 padding, and every event carries
``X-Lark-Signature = hex(sha256(timestamp + nonce + encrypt key + raw body))``.
The Verification Token is compared with ``header.token`` (v2.0) or ``token``
(v1.0 and url_verification). Feishu delivers at least once: deduplicate on
``event_id``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from feishu.models import ms_to_datetime

STAGE_CHANGED = "hire.application.stage_changed_v1"
APPLICATIONS_DELETED = "hire.application.deleted_v1"
URL_VERIFICATION = "url_verification"

HEADER_TIMESTAMP = "X-Lark-Request-Timestamp"
HEADER_NONCE = "X-Lark-Request-Nonce"
HEADER_SIGNATURE = "X-Lark-Signature"

_BLOCK = 16


class EventRejected(Exception):
    """A callback this receiver must not act on; answer it with an HTTP error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class UrlVerification:
    challenge: str

    def response_body(self) -> bytes:
        """The answer Feishu expects: ``{"challenge": "<same value>"}``."""
        return json.dumps({"challenge": self.challenge}).encode()


@dataclass(frozen=True)
class StageChanged:
    event_id: str
    application_id: str
    origin_stage_id: str | None
    target_stage_id: str | None
    update_time: datetime | None


@dataclass(frozen=True)
class ApplicationsDeleted:
    event_id: str
    application_ids: tuple[str, ...]


@dataclass(frozen=True)
class OtherEvent:
    event_id: str
    event_type: str


CallbackResult = UrlVerification | StageChanged | ApplicationsDeleted | OtherEvent


def _key(encrypt_key: str) -> bytes:
    return hashlib.sha256(encrypt_key.encode("utf-8")).digest()


def encrypt(payload: Mapping[str, Any] | str | bytes, encrypt_key: str) -> str:
    """The ``encrypt`` value Feishu sends for ``payload`` (a mapping is sent as
    JSON): base64 of a random IV followed by the AES-256-CBC ciphertext."""
    if isinstance(payload, Mapping):
        payload = json.dumps(payload, ensure_ascii=False)
    plain = payload.encode("utf-8") if isinstance(payload, str) else payload
    padder = padding.PKCS7(_BLOCK * 8).padder()
    padded = padder.update(plain) + padder.finalize()
    iv = os.urandom(_BLOCK)
    encryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(
        iv + encryptor.update(padded) + encryptor.finalize()
    ).decode()


def decrypt_text(encrypt_b64: str, encrypt_key: str) -> str:
    """The plaintext of an ``encrypt`` value; :class:`EventRejected` when it does
    not decrypt with this key."""
    try:
        raw = base64.b64decode(encrypt_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EventRejected("undecryptable body: not base64") from exc
    if len(raw) < 2 * _BLOCK or len(raw) % _BLOCK:
        raise EventRejected("undecryptable body: bad ciphertext length")
    iv, ciphertext = raw[:_BLOCK], raw[_BLOCK:]
    decryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(_BLOCK * 8).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
        return plain.decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventRejected("undecryptable body: wrong key or tampered") from exc


def decrypt(encrypt_b64: str, encrypt_key: str) -> dict[str, Any]:
    """The JSON object inside an ``encrypt`` value."""
    return _object(decrypt_text(encrypt_b64, encrypt_key))


def signature(timestamp: str, nonce: str, encrypt_key: str, raw_body: bytes) -> str:
    """``X-Lark-Signature``: hex sha256 of timestamp + nonce + key + raw body."""
    head = (timestamp + nonce + encrypt_key).encode("utf-8")
    return hashlib.sha256(head + raw_body).hexdigest()


def _object(text: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventRejected("malformed JSON") from exc
    if not isinstance(data, dict):
        raise EventRejected("malformed JSON: not an object")
    return data


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _same(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(
        given.encode("utf-8"), expected.encode("utf-8")
    )


def _check_signature(
    headers: Mapping[str, str], encrypt_key: str, raw_body: bytes
) -> None:
    timestamp = _header(headers, HEADER_TIMESTAMP)
    nonce = _header(headers, HEADER_NONCE)
    given = _header(headers, HEADER_SIGNATURE)
    if not timestamp or not nonce or not given:
        raise EventRejected("missing signature headers")
    if not _same(given.lower(), signature(timestamp, nonce, encrypt_key, raw_body)):
        raise EventRejected("signature mismatch")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_callback(
    raw_body: bytes,
    headers: Mapping[str, str],
    *,
    verification_token: str,
    encrypt_key: str | None,
) -> CallbackResult:
    """Verify and decode one callback request (see the module docstring).

    ``encrypt_key`` None or empty: the app has no Encrypt Key, so bodies are plain
    and unsigned, and only the token authenticates them.
    """
    if not verification_token:
        raise ValueError("verification_token is required")
    outer = _object(raw_body)
    signed = False
    if encrypt_key:
        if "encrypt" not in outer:
            raise EventRejected("plain body, but the app has an Encrypt Key")
        if _header(headers, HEADER_SIGNATURE) is not None:
            _check_signature(headers, encrypt_key, raw_body)
            signed = True
        encrypted = outer["encrypt"]
        if not isinstance(encrypted, str):
            raise EventRejected("undecryptable body: encrypt is not a string")
        body = decrypt(encrypted, encrypt_key)
    elif "encrypt" in outer:
        raise EventRejected("encrypted body, but no Encrypt Key is configured")
    else:
        body = outer

    if body.get("type") == URL_VERIFICATION:
        # Feishu's SDK checks only the token here: the handshake is not signed.
        if not _same(body.get("token"), verification_token):
            raise EventRejected("wrong verification token")
        challenge = _str(body.get("challenge"))
        if challenge is None:
            raise EventRejected("url_verification without a challenge")
        return UrlVerification(challenge)

    if encrypt_key and not signed:
        raise EventRejected("missing signature headers")
    if body.get("schema") == "2.0":
        header = body.get("header")
        if not isinstance(header, dict):
            raise EventRejected("malformed event: no header")
        token, event_id = header.get("token"), _str(header.get("event_id"))
        event_type = _str(header.get("event_type"))
    else:  # v1.0: {"uuid", "token", "event": {"type", ...}}
        event = body.get("event")
        token, event_id = body.get("token"), _str(body.get("uuid"))
        event_type = _str(event.get("type")) if isinstance(event, dict) else None
    if not _same(token, verification_token):
        raise EventRejected("wrong verification token")
    if event_id is None or event_type is None:
        raise EventRejected("malformed event: no event_id or event_type")
    event = body.get("event")
    if not isinstance(event, dict):
        raise EventRejected("malformed event: no event object")

    if event_type == STAGE_CHANGED:
        application_id = _str(event.get("application_id"))
        if application_id is None:
            raise EventRejected("malformed event: no application_id")
        return StageChanged(
            event_id=event_id,
            application_id=application_id,
            origin_stage_id=_str(event.get("origin_stage_id")),
            target_stage_id=_str(event.get("target_stage_id")),
            update_time=ms_to_datetime(event.get("update_time")),
        )
    if event_type == APPLICATIONS_DELETED:
        ids = event.get("application_ids")
        if not isinstance(ids, list) or not all(_str(i) for i in ids):
            raise EventRejected("malformed event: application_ids")
        return ApplicationsDeleted(event_id=event_id, application_ids=tuple(ids))
    return OtherEvent(event_id=event_id, event_type=event_type)
