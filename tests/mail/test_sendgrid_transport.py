"""The SendGrid transport against a recording SendGrid stand-in on 127.0.0.1."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from chainels_app.services.sendgrid_transport import IDEMPOTENCY_ARG, SendGridTransport
from chainels_app.services.transport import InlineImage, MailBatch, Outcome, Recipient
from chainels_app.settings import load_settings
from tests.mail.conftest import free_port
from tests.mail.sendgrid_recorder import SendGridRecorder

UNSUBSCRIBE = "{{unsubscribe_url}}"
TEXT = "Er is een nieuwe melding.\nAfmelden: {{unsubscribe_url}}\n"
HTML = '<p>Nieuwe melding <img src="cid:logo"></p><a href="{{unsubscribe_url}}">x</a>'
PIXELS = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def member(number: int) -> Recipient:
    """A member with their own unsubscribe link and one-click headers."""
    url = f"https://wijk.example.test/unsubscribe/token-{number:04d}"
    return Recipient(
        key=f"outbox-{number}",
        address=f"member{number}@example.test",
        substitutions={UNSUBSCRIBE: url},
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def batch_for(recipients: list[Recipient], **extra) -> MailBatch:
    return MailBatch(
        subject="Nieuwe melding in uw wijk",
        text=TEXT,
        html=HTML,
        recipients=tuple(recipients),
        **extra,
    )


def members(count: int) -> list[Recipient]:
    return [member(number) for number in range(count)]


@pytest.fixture
def recorder() -> Iterator[SendGridRecorder]:
    with SendGridRecorder() as recorder:
        yield recorder


@pytest.fixture
def transport(recorder: SendGridRecorder, tmp_path: Path) -> SendGridTransport:
    return SendGridTransport(recorder.settings(tmp_path))


def retries(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if not o.sent and o.retry_after is not None]


def test_2500_members_make_three_requests_of_personalizations(
    recorder: SendGridRecorder, transport: SendGridTransport
) -> None:
    everyone = members(2500)

    outcomes = transport.send(batch_for(everyone))

    sizes = [len(r.body["personalizations"]) for r in recorder.requests]
    assert sizes == [1000, 1000, 500]
    for recipient, personalization in zip(
        everyone, recorder.personalizations, strict=True
    ):
        assert personalization == {
            "to": [{"email": recipient.address}],
            "substitutions": recipient.substitutions,
            "headers": recipient.headers,
            "custom_args": {IDEMPOTENCY_ARG: recipient.key},
        }
    assert sorted(o.key for o in outcomes) == sorted(r.key for r in everyone)
    assert all(o.sent for o in outcomes)
    assert set(recorder.accepted.values()) == {1}
    assert len(recorder.accepted) == 2500


def test_one_body_carries_sender_texts_and_inline_images(
    recorder: SendGridRecorder, transport: SendGridTransport
) -> None:
    logo = InlineImage(
        cid="logo", data=PIXELS, content_type="image/png", filename="logo.png"
    )

    transport.send(batch_for(members(2), inline_images=(logo,)))

    (request,) = recorder.requests
    assert request.body["from"] == {
        "email": "noreply@localhost",
        "name": "Wijkplatform",
    }
    assert request.body["subject"] == "Nieuwe melding in uw wijk"
    assert request.body["content"] == [
        {"type": "text/plain", "value": TEXT},
        {"type": "text/html", "value": HTML},
    ]
    assert request.body["attachments"] == [
        {
            "content": base64.b64encode(PIXELS).decode(),
            "type": "image/png",
            "filename": "logo.png",
            "disposition": "inline",
            "content_id": "logo",
        }
    ]


@pytest.mark.parametrize("status", [429, 503])
def test_failed_requests_are_retried_until_every_member_has_one_mail(
    recorder: SendGridRecorder, transport: SendGridTransport, status: int
) -> None:
    # Smaller requests, so that a fifth of them failing hits several.
    transport.max_batch = 100
    recorder.fail(status, rate=0.2, seed=1)
    pending = members(2500)

    outcomes = transport.send(batch_for(pending))

    failed = {
        personalization["custom_args"][IDEMPOTENCY_ARG]
        for request in recorder.requests
        if not request.accepted
        for personalization in request.body["personalizations"]
    }
    assert failed
    assert {o.key for o in retries(outcomes)} == failed
    assert {o.key for o in outcomes if o.sent} == {r.key for r in pending} - failed

    for _round in range(50):
        again = {o.key for o in retries(outcomes)}
        if not again:
            break
        pending = [r for r in pending if r.key in again]
        outcomes = transport.send(batch_for(pending))
    assert not retries(outcomes)
    assert recorder.accepted == {r.address: 1 for r in members(2500)}


def test_rate_limit_asks_to_retry_when_the_window_resets(
    recorder: SendGridRecorder, transport: SendGridTransport
) -> None:
    recorder.fail(429)
    recorder.reset_in = 120

    outcomes = transport.send(batch_for(members(3)))

    assert all(not o.sent for o in outcomes)
    assert all(115 <= o.retry_after <= 121 for o in outcomes)

    recorder.reset_in = -30
    outcomes = transport.send(batch_for(members(3)))
    assert {o.retry_after for o in outcomes} == {1.0}


def test_server_error_asks_to_retry_in_thirty_seconds(
    recorder: SendGridRecorder, transport: SendGridTransport
) -> None:
    recorder.fail(500)

    outcomes = transport.send(batch_for(members(3)))

    assert {(o.sent, o.retry_after) for o in outcomes} == {(False, 0.0)}


@pytest.mark.parametrize("status", [400, 413])
def test_other_client_errors_are_permanent(
    recorder: SendGridRecorder, transport: SendGridTransport, status: int
) -> None:
    recorder.fail(status)

    outcomes = transport.send(batch_for(members(3)))

    assert len(outcomes) == 3
    assert all(not o.sent and o.retry_after is None for o in outcomes)
    assert all(str(status) in o.error for o in outcomes)
    assert not recorder.accepted


def test_wrong_api_key_is_refused_permanently(
    recorder: SendGridRecorder, tmp_path: Path
) -> None:
    recorder.api_key = "SG.another-key"
    transport = SendGridTransport(
        load_settings(
            {
                "DATA_DIR": str(tmp_path),
                "MAIL_BACKEND": "sendgrid",
                "SENDGRID_API_KEY": "SG.wrong",
                "SENDGRID_HOST": recorder.url,
            }
        )
    )

    outcomes = transport.send(batch_for(members(2)))

    assert all(not o.sent and o.retry_after is None for o in outcomes)
    assert not recorder.requests


def test_unreachable_sendgrid_asks_to_retry(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path),
            "MAIL_BACKEND": "sendgrid",
            "SENDGRID_API_KEY": "SG.key",
            "SENDGRID_HOST": f"http://127.0.0.1:{free_port()}",
        }
    )

    outcomes = SendGridTransport(settings).send(batch_for(members(2)))

    assert {(o.sent, o.retry_after) for o in outcomes} == {(False, 0.0)}


def test_logs_name_neither_addresses_nor_the_api_key(
    recorder: SendGridRecorder,
    transport: SendGridTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    transport.send(batch_for(members(2)))
    recorder.fail(400)
    transport.send(batch_for(members(2)))

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "sendgrid" in logged
    assert "example.test" not in logged
    assert recorder.api_key not in logged
