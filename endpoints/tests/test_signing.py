"""Standard Webhooks signing and verification."""

from __future__ import annotations

import base64

import pytest

from endpoints import signing

# The example from the Standard Webhooks specification and its reference libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _headers(signature=SPEC_SIGNATURE, ts=SPEC_TS, msg_id=SPEC_ID):
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_sign_matches_the_specification_example():
    assert signing.sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE


def test_verify_accepts_the_specification_example():
    assert signing.verify(SPEC_SECRET, _headers(), SPEC_BODY, now=SPEC_TS + 10) is None


def test_verify_reads_headers_case_insensitively_and_accepts_bytes():
    headers = {k.title(): v for k, v in _headers().items()}
    signing.verify(SPEC_SECRET, headers, SPEC_BODY.encode(), now=SPEC_TS)


def test_any_matching_signature_of_several_is_enough():
    headers = _headers(signature="v1,bm90LXRoaXMtb25l v2,xyz " + SPEC_SIGNATURE)
    signing.verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TS)


@pytest.mark.parametrize(
    ("headers", "body", "now", "message"),
    [
        (_headers(), SPEC_BODY + " ", SPEC_TS, "No matching signature."),
        (_headers(msg_id="msg_other"), SPEC_BODY, SPEC_TS, "No matching signature."),
        (_headers(), SPEC_BODY, SPEC_TS + 301, "outside the allowed tolerance"),
        (_headers(), SPEC_BODY, SPEC_TS - 301, "outside the allowed tolerance"),
        (_headers(ts="soon"), SPEC_BODY, SPEC_TS, "Invalid webhook-timestamp"),
        (
            {"webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TS)},
            SPEC_BODY,
            SPEC_TS,
            "Missing webhook-signature",
        ),
        (
            _headers(signature="v2," + SPEC_SIGNATURE[3:]),
            SPEC_BODY,
            SPEC_TS,
            "No matching signature.",
        ),
    ],
    ids=["body", "id", "late", "early", "bad-ts", "missing", "wrong-version"],
)
def test_verify_refuses_what_does_not_match(headers, body, now, message):
    with pytest.raises(signing.SignatureError, match=message):
        signing.verify(SPEC_SECRET, headers, body, now=now)


def test_verify_with_a_different_secret_fails():
    other = signing.generate_secret()
    with pytest.raises(signing.SignatureError):
        signing.verify(other, _headers(), SPEC_BODY, now=SPEC_TS)


def test_signature_headers_round_trip_with_a_generated_secret():
    secret = signing.generate_secret()
    headers = signing.signature_headers(secret, "dlv-1", b'{"a": 1}', timestamp=1_700_000_000)
    signing.verify(secret, headers, b'{"a": 1}', now=1_700_000_100)
    assert headers["webhook-id"] == "dlv-1"


@pytest.mark.parametrize(
    "secret",
    [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_not base64!",
        "whsec_" + base64.b64encode(b"x").decode(),
    ],
    ids=["no-prefix", "not-base64", "too-short"],
)
def test_malformed_secrets_are_refused_when_saved(secret):
    with pytest.raises(ValueError):
        signing.validate_secret(secret)
