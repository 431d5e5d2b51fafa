"""SendGrid's event webhook: signed events suppress addresses, unsigned ones nothing."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.routing import Route

from chainels_app.api import sendgrid_webhook
from chainels_app.api.sendgrid_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER
from chainels_app.models import MailSuppression
from chainels_app.services.sendgrid_transport import suppress
from chainels_app.settings import get_settings

PATH = "/api/sendgrid/events"


def public_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as SendGrid shows it: base64 DER, no PEM lines."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def signed_headers(key: ec.EllipticCurvePrivateKey, body: bytes) -> dict[str, str]:
    """The headers SendGrid sends: an ECDSA/SHA-256 signature of timestamp + body."""
    timestamp = str(int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        SIGNATURE_HEADER: base64.b64encode(signature).decode(),
        TIMESTAMP_HEADER: timestamp,
    }


def events_body(*events: dict) -> bytes:
    return json.dumps(list(events)).encode()


def bounce(email: str, **extra) -> dict:
    return {"email": email, "event": "bounce", "type": "bounce", **extra}


@pytest.fixture
def sendgrid_key(monkeypatch) -> ec.EllipticCurvePrivateKey:
    """SendGrid's signing key, whose public half the settings hold."""
    key = ec.generate_private_key(ec.SECP256R1())
    settings = dataclasses.replace(
        get_settings(), sendgrid_webhook_public_key=public_key_text(key)
    )
    monkeypatch.setattr(sendgrid_webhook, "get_settings", lambda: settings)
    return key


@pytest.fixture
async def client(engine, sendgrid_key) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for an app that serves only the webhook route."""
    app = Starlette(
        routes=[Route(PATH, sendgrid_webhook.receive_events, methods=["POST"])]
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


def suppressed(session: Session) -> dict[str, str]:
    rows = session.exec(select(MailSuppression)).all()
    return {row.email: row.reason for row in rows}


async def test_signed_bounce_suppresses_the_address(
    client: httpx.AsyncClient, sendgrid_key, session: Session
) -> None:
    body = events_body(bounce("Gone@Example.test", reason="550 5.1.1 unknown user"))

    response = await client.post(
        PATH, content=body, headers=signed_headers(sendgrid_key, body)
    )

    assert response.status_code == 200
    assert suppressed(session) == {"gone@example.test": "bounce"}


async def test_every_suppressing_event_counts_and_others_do_not(
    client: httpx.AsyncClient, sendgrid_key, session: Session
) -> None:
    body = events_body(
        {"email": "dropped@example.test", "event": "dropped", "reason": "Invalid"},
        {"email": "spam@example.test", "event": "spamreport"},
        {"email": "left@example.test", "event": "unsubscribe"},
        {"email": "group@example.test", "event": "group_unsubscribe"},
        {"email": "fine@example.test", "event": "delivered"},
        {"email": "reader@example.test", "event": "open"},
        bounce("blocked@example.test", type="blocked"),
        {"event": "bounce"},
        "not an event",
    )

    response = await client.post(
        PATH, content=body, headers=signed_headers(sendgrid_key, body)
    )

    assert response.status_code == 200
    assert suppressed(session) == {
        "dropped@example.test": "dropped",
        "spam@example.test": "spamreport",
        "left@example.test": "unsubscribe",
        "group@example.test": "group_unsubscribe",
    }


async def test_an_address_already_suppressed_keeps_its_reason(
    client: httpx.AsyncClient, sendgrid_key, session: Session
) -> None:
    session.add(MailSuppression(email="gone@example.test", reason="spamreport"))
    session.commit()
    body = events_body(bounce("gone@example.test"), bounce("gone@example.test"))

    for _delivery in range(2):
        response = await client.post(
            PATH, content=body, headers=signed_headers(sendgrid_key, body)
        )
        assert response.status_code == 200

    assert suppressed(session) == {"gone@example.test": "spamreport"}


async def test_a_tampered_body_is_refused(
    client: httpx.AsyncClient, sendgrid_key, session: Session
) -> None:
    signed = events_body(bounce("someone@example.test"))
    tampered = events_body(bounce("victim@example.test"))

    response = await client.post(
        PATH, content=tampered, headers=signed_headers(sendgrid_key, signed)
    )

    assert response.status_code == 403
    assert suppressed(session) == {}


async def test_a_body_signed_with_another_key_is_refused(
    client: httpx.AsyncClient, session: Session
) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    body = events_body(bounce("victim@example.test"))

    response = await client.post(
        PATH, content=body, headers=signed_headers(stranger, body)
    )

    assert response.status_code == 403
    assert suppressed(session) == {}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: "", TIMESTAMP_HEADER: "1700000000"},
        {SIGNATURE_HEADER: "not base64 at all!", TIMESTAMP_HEADER: "1700000000"},
        {SIGNATURE_HEADER: base64.b64encode(b"junk").decode(), TIMESTAMP_HEADER: "1"},
    ],
)
async def test_a_missing_or_malformed_signature_is_refused(
    client: httpx.AsyncClient, session: Session, headers: dict[str, str]
) -> None:
    body = events_body(bounce("victim@example.test"))

    response = await client.post(PATH, content=body, headers=headers)

    assert response.status_code == 403
    assert suppressed(session) == {}


async def test_without_a_configured_key_everything_is_refused(
    client: httpx.AsyncClient, sendgrid_key, session: Session, monkeypatch
) -> None:
    settings = dataclasses.replace(get_settings(), sendgrid_webhook_public_key="")
    monkeypatch.setattr(sendgrid_webhook, "get_settings", lambda: settings)
    body = events_body(bounce("victim@example.test"))

    response = await client.post(
        PATH, content=body, headers=signed_headers(sendgrid_key, body)
    )

    assert response.status_code == 403
    assert suppressed(session) == {}


def test_suppress_is_idempotent(session: Session) -> None:
    assert suppress(session, email=" Gone@Example.test ", reason="bounce")
    assert not suppress(session, email="gone@example.test", reason="spamreport")
    session.commit()

    assert suppressed(session) == {"gone@example.test": "bounce"}
