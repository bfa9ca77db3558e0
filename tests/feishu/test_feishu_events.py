"""feishu.events: Feishu's callback format (AES-256-CBC, signature, token), proven
against the official SDK (lark-oapi) and the documented sample, and the
refusals."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from Crypto.Cipher import AES  # pycryptodome: what lark-oapi decrypts with
from Crypto.Util.Padding import pad
from lark_oapi.core.model.raw_request import RawRequest
from lark_oapi.core.utils.decryptor import AESCipher
from lark_oapi.event.dispatcher_handler import EventDispatcherHandler

from feishu.events import (
    ApplicationsDeleted,
    EventRejected,
    OtherEvent,
    StageChanged,
    UrlVerification,
    decrypt,
    decrypt_text,
    encrypt,
    parse_callback,
    signature,
)

KEY = "encrypt-key-for-tests"
TOKEN = "verification-token-for-tests"

STAGE_EVENT = {
    "schema": "2.0",
    "header": {
        "event_id": "5e3702a84e847582be8db7fb73283c02",
        "event_type": "hire.application.stage_changed_v1",
        "create_time": "1608725989000",
        "token": TOKEN,
        "app_id": "cli_a1b2c3",
        "tenant_key": "2ca1d211f64f6438",
    },
    "event": {
        "application_id": "6891565253964859661",
        "origin_stage_id": "6960663240925956511",
        "target_stage_id": "6960663240925956512",
        "update_time": 1652806656258,
    },
}


def signed(payload: dict, key: str = KEY) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"encrypt": encrypt(payload, key)}).encode()
    headers = {
        "X-Lark-Request-Timestamp": "1700000000",
        "X-Lark-Request-Nonce": "n0nce",
        "X-Lark-Signature": signature("1700000000", "n0nce", key, body),
    }
    return body, headers


def parse(body: bytes, headers: dict[str, str], key: str | None = KEY):
    return parse_callback(body, headers, verification_token=TOKEN, encrypt_key=key)


# -- the format, against lark-oapi and Feishu's documented sample -----------------


def test_feishus_documented_sample_decrypts():
    # The sample of Feishu's "Encrypt Key" guide: key "test key" -> "hello world".
    sample = "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="

    assert decrypt_text(sample, "test key") == "hello world"
    assert AESCipher("test key").decrypt_str(sample) == "hello world"


def test_a_ciphertext_made_the_sdks_way_decrypts():
    # lark-oapi only decrypts; this encrypts with the same library and key
    # derivation (pycryptodome, sha256 of the key, random IV in front, PKCS7).
    iv = b"0123456789abcdef"
    cipher = AES.new(hashlib.sha256(KEY.encode()).digest(), AES.MODE_CBC, iv)
    plain = json.dumps(STAGE_EVENT, ensure_ascii=False).encode()
    sample = base64.b64encode(iv + cipher.encrypt(pad(plain, 16))).decode()

    assert AESCipher(KEY).decrypt_str(sample) == plain.decode()
    assert decrypt(sample, KEY) == STAGE_EVENT


def test_lark_oapi_decrypts_what_encrypt_makes():
    payload = {"名字": "陈思远", "n": 1}

    encrypted = encrypt(payload, KEY)

    assert json.loads(AESCipher(KEY).decrypt_str(encrypted)) == payload
    assert encrypt(payload, KEY) != encrypted  # a fresh IV each time


def test_lark_oapis_dispatcher_accepts_an_encrypted_signed_event():
    received = []
    handler = (
        EventDispatcherHandler.builder(KEY, TOKEN)
        .register_p2_hire_application_stage_changed_v1(received.append)
        .build()
    )
    body, headers = signed(STAGE_EVENT)
    request = RawRequest()
    request.uri, request.headers, request.body = "/callback", headers, body

    response = handler.do(request)

    assert response.status_code == 200, response.content
    assert received[0].event.application_id == "6891565253964859661"
    assert received[0].header.event_id == STAGE_EVENT["header"]["event_id"]


def test_signature_is_sha256_of_timestamp_nonce_key_and_the_raw_body():
    body = b'{"encrypt":"abc"}'

    expected = hashlib.sha256(b"1700000000n0nce" + KEY.encode() + body).hexdigest()

    assert signature("1700000000", "n0nce", KEY, body) == expected


# -- parse_callback ---------------------------------------------------------------


def test_an_encrypted_signed_stage_change_is_parsed():
    body, headers = signed(STAGE_EVENT)

    event = parse(body, headers)

    assert isinstance(event, StageChanged)
    assert event.event_id == STAGE_EVENT["header"]["event_id"]
    assert event.application_id == "6891565253964859661"
    assert event.origin_stage_id == "6960663240925956511"
    assert event.target_stage_id == "6960663240925956512"
    assert event.update_time is not None
    assert event.update_time.timestamp() == 1652806656.258


def test_header_names_are_matched_whatever_their_case():
    body, headers = signed(STAGE_EVENT)

    event = parse(body, {k.lower(): v for k, v in headers.items()})

    assert isinstance(event, StageChanged)


def test_a_plain_event_without_an_encrypt_key_is_checked_by_its_token():
    event = parse(json.dumps(STAGE_EVENT).encode(), {}, key=None)

    assert isinstance(event, StageChanged)


def test_applications_deleted_and_other_events():
    deleted = {
        **STAGE_EVENT,
        "header": {
            **STAGE_EVENT["header"],
            "event_type": "hire.application.deleted_v1",
        },
        "event": {"application_ids": ["1", "2"]},
    }
    other = {
        **STAGE_EVENT,
        "header": {**STAGE_EVENT["header"], "event_type": "hire.talent.deleted_v1"},
        "event": {"talent_id": "7"},
    }

    assert parse(*signed(deleted)) == ApplicationsDeleted(
        STAGE_EVENT["header"]["event_id"], ("1", "2")
    )
    assert parse(*signed(other)) == OtherEvent(
        STAGE_EVENT["header"]["event_id"], "hire.talent.deleted_v1"
    )


@pytest.mark.parametrize("key", [KEY, None])
def test_url_verification_returns_the_challenge_to_echo(key):
    handshake = {"challenge": "ch-123", "token": TOKEN, "type": "url_verification"}
    body = (
        json.dumps({"encrypt": encrypt(handshake, KEY)}).encode()
        if key
        else json.dumps(handshake).encode()
    )

    result = parse(body, {}, key=key)

    assert result == UrlVerification("ch-123")
    assert json.loads(result.response_body()) == {"challenge": "ch-123"}


def test_url_verification_with_a_wrong_token_is_refused():
    handshake = {"challenge": "c", "token": "guess", "type": "url_verification"}

    with pytest.raises(EventRejected, match="token"):
        parse(json.dumps({"encrypt": encrypt(handshake, KEY)}).encode(), {})


def test_a_forged_signature_is_refused():
    body, headers = signed(STAGE_EVENT)
    headers["X-Lark-Signature"] = signature("1700000000", "n0nce", "other key", body)

    with pytest.raises(EventRejected, match="signature"):
        parse(body, headers)


@pytest.mark.parametrize(
    "header", ["X-Lark-Signature", "X-Lark-Request-Timestamp", "X-Lark-Request-Nonce"]
)
def test_a_missing_signature_header_is_refused(header):
    body, headers = signed(STAGE_EVENT)
    del headers[header]

    with pytest.raises(EventRejected, match="signature"):
        parse(body, headers)


def test_a_tampered_body_is_refused():
    body, headers = signed(STAGE_EVENT)
    outer = json.loads(body)
    raw = bytearray(base64.b64decode(outer["encrypt"]))
    raw[20] ^= 1
    tampered = json.dumps({"encrypt": base64.b64encode(raw).decode()}).encode()

    with pytest.raises(EventRejected, match="signature"):
        parse(tampered, headers)


def test_a_wrong_token_is_refused_even_when_signed():
    payload = {**STAGE_EVENT, "header": {**STAGE_EVENT["header"], "token": "guess"}}

    with pytest.raises(EventRejected, match="token"):
        parse(*signed(payload))


def test_a_body_encrypted_with_another_key_is_undecryptable():
    body = json.dumps({"encrypt": encrypt(STAGE_EVENT, "other key")}).encode()
    headers = {
        "X-Lark-Request-Timestamp": "1",
        "X-Lark-Request-Nonce": "n",
        "X-Lark-Signature": signature("1", "n", KEY, body),
    }

    with pytest.raises(EventRejected, match="undecryptable"):
        parse(body, headers)


@pytest.mark.parametrize(
    ("body", "key", "reason"),
    [
        (b"{not json", KEY, "malformed JSON"),
        (b"[1, 2]", None, "malformed JSON"),
        (json.dumps(STAGE_EVENT).encode(), KEY, "plain body"),
        (b'{"encrypt": "abc"}', None, "no Encrypt Key"),
        (b'{"encrypt": "not base64!"}', KEY, "undecryptable"),
    ],
)
def test_malformed_bodies_are_refused(body, key, reason):
    with pytest.raises(EventRejected, match=reason):
        parse(body, {}, key=key)


def test_a_receiver_without_a_verification_token_is_a_configuration_error():
    with pytest.raises(ValueError, match="verification_token"):
        parse_callback(b"{}", {}, verification_token="", encrypt_key=KEY)
