"""The SMTP transport against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import logging
from dataclasses import replace
from email.message import EmailMessage

from chainels_app.services.smtp_transport import SmtpTransport
from chainels_app.services.transport import (
    InlineImage,
    MailBatch,
    Outcome,
    Recipient,
)
from chainels_app.settings import Settings
from tests.mail.conftest import (
    SECURE_LOGIN,
    SmtpTestServer,
    free_port,
    smtp_settings_for,
)

UNSUBSCRIBE = "{{unsubscribe_url}}"
TEXT = "Er is een nieuwe melding.\nAfmelden: {{unsubscribe_url}}\n"
HTML = '<p>Er is een nieuwe melding.</p><p><a href="{{unsubscribe_url}}">Afmelden</a>'
PIXELS = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def unsubscribe_url(number: int) -> str:
    return f"https://wijk.example.test/unsubscribe/token-{number:04d}"


def member(number: int) -> Recipient:
    """A member with their own unsubscribe link and one-click headers."""
    url = unsubscribe_url(number)
    return Recipient(
        key=f"outbox-{number}",
        address=f"member{number}@example.test",
        substitutions={UNSUBSCRIBE: url},
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def batch_for(count: int, **extra) -> MailBatch:
    return MailBatch(
        subject="Nieuwe melding in de wijk",
        text=TEXT,
        html=HTML,
        recipients=tuple(member(number) for number in range(count)),
        **extra,
    )


def body(message: EmailMessage, subtype: str) -> str:
    """A part's text as written, without the CRLF line ends of the wire."""
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content().replace("\r\n", "\n")


def by_key(outcomes: list[Outcome]) -> dict[str, Outcome]:
    return {outcome.key: outcome for outcome in outcomes}


def test_every_recipient_gets_their_own_message(
    smtp_server: SmtpTestServer, smtp_settings: Settings
) -> None:
    batch = batch_for(300)

    outcomes = SmtpTransport(smtp_settings).send(batch)

    assert len(outcomes) == 300
    assert by_key(outcomes) == {
        f"outbox-{n}": Outcome(key=f"outbox-{n}", sent=True) for n in range(300)
    }
    assert len(smtp_server.messages) == 300
    for number, received in enumerate(smtp_server.messages):
        address, url = f"member{number}@example.test", unsubscribe_url(number)
        message = received.message
        assert received.sender == "noreply@localhost"
        assert received.recipients == [address]
        assert message["To"] == address
        assert message["Subject"] == "Nieuwe melding in de wijk"
        assert message["List-Unsubscribe"] == f"<{url}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert body(message, "plain") == TEXT.replace(UNSUBSCRIBE, url)
        assert body(message, "html") == HTML.replace(UNSUBSCRIBE, url) + "\n"


def test_inline_image_travels_as_related_part_of_the_html(
    smtp_server: SmtpTestServer, smtp_settings: Settings
) -> None:
    logo = InlineImage(
        cid="logo@chainels", data=PIXELS, content_type="image/png", filename="l.png"
    )
    batch = batch_for(1, inline_images=(logo,))
    batch = MailBatch(
        subject=batch.subject,
        text=batch.text,
        html=HTML + '<img src="cid:logo@chainels">',
        recipients=batch.recipients,
        inline_images=batch.inline_images,
    )

    outcomes = SmtpTransport(smtp_settings).send(batch)

    assert outcomes == [Outcome(key="outbox-0", sent=True)]
    [received] = smtp_server.messages
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert 'src="cid:logo@chainels"' in html.get_content()
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == "<logo@chainels>"
    assert image.get_content() == PIXELS


def test_a_550_refusal_fails_that_recipient_for_good(
    smtp_server: SmtpTestServer, smtp_settings: Settings
) -> None:
    smtp_server.refuse("member1@example.test", 550)

    outcomes = by_key(SmtpTransport(smtp_settings).send(batch_for(3)))

    refused = outcomes["outbox-1"]
    assert (refused.sent, refused.retry_after) == (False, None)
    assert refused.error.startswith("550 ")
    assert outcomes["outbox-0"] == Outcome(key="outbox-0", sent=True)
    assert outcomes["outbox-2"] == Outcome(key="outbox-2", sent=True)
    assert [m.recipients for m in smtp_server.messages] == [
        ["member0@example.test"],
        ["member2@example.test"],
    ]


def test_a_451_refusal_asks_for_a_retry(
    smtp_server: SmtpTestServer, smtp_settings: Settings
) -> None:
    smtp_server.refuse("member0@example.test", 451)

    outcomes = by_key(SmtpTransport(smtp_settings).send(batch_for(2)))

    refused = outcomes["outbox-0"]
    assert (refused.sent, refused.retry_after) == (False, 0)
    assert refused.error.startswith("451 ")
    assert outcomes["outbox-1"] == Outcome(key="outbox-1", sent=True)
    assert [m.recipients for m in smtp_server.messages] == [["member1@example.test"]]


def test_a_421_closes_the_session_and_keeps_what_was_sent(
    smtp_server: SmtpTestServer, smtp_settings: Settings, caplog
) -> None:
    smtp_server.refuse("member2@example.test", 421)

    with caplog.at_level(logging.INFO, logger="chainels_app"):
        outcomes = SmtpTransport(smtp_settings).send(batch_for(5))

    assert [(o.key, o.sent, o.retry_after) for o in outcomes] == [
        ("outbox-0", True, None),
        ("outbox-1", True, None),
        ("outbox-2", False, 0),
        ("outbox-3", False, 0),
        ("outbox-4", False, 0),
    ]
    assert len(smtp_server.messages) == 2
    assert "ended after 3 of 5 recipients" in caplog.text
    assert "2 sent, 3 to retry, 0 failed" in caplog.text
    assert "@" not in caplog.text


def test_a_server_that_does_not_listen_means_retry_for_all(tmp_path) -> None:
    settings = smtp_settings_for(tmp_path, free_port())

    outcomes = SmtpTransport(settings).send(batch_for(3))

    assert [(o.key, o.sent, o.retry_after) for o in outcomes] == [
        ("outbox-0", False, 0),
        ("outbox-1", False, 0),
        ("outbox-2", False, 0),
    ]
    assert all(o.error == "ConnectionRefusedError" for o in outcomes)


def test_starttls_and_login_come_before_the_mail(
    smtp_tls_server: SmtpTestServer, smtp_tls_settings: Settings
) -> None:
    transport = SmtpTransport(
        smtp_tls_settings, tls_context=smtp_tls_server.client_context()
    )

    outcomes = transport.send(batch_for(2))

    assert [(o.key, o.sent) for o in outcomes] == [
        ("outbox-0", True),
        ("outbox-1", True),
    ]
    assert smtp_tls_server.logins == [SECURE_LOGIN[0]]
    assert len(smtp_tls_server.messages) == 2


def test_a_wrong_password_means_retry_for_all(
    smtp_tls_server: SmtpTestServer, smtp_tls_settings: Settings
) -> None:
    settings = replace(smtp_tls_settings, smtp_password="wrong")
    transport = SmtpTransport(settings, tls_context=smtp_tls_server.client_context())

    outcomes = transport.send(batch_for(2))

    assert [(o.sent, o.retry_after, o.error) for o in outcomes] == [
        (False, 0, "SMTPAuthenticationError 535"),
        (False, 0, "SMTPAuthenticationError 535"),
    ]
    assert smtp_tls_server.messages == []


def test_without_starttls_the_server_takes_nothing(
    smtp_tls_server: SmtpTestServer, tmp_path
) -> None:
    settings = smtp_settings_for(tmp_path, smtp_tls_server.port)

    outcomes = SmtpTransport(settings).send(batch_for(1))

    assert [(o.sent, o.retry_after) for o in outcomes] == [(False, 0)]
    assert smtp_tls_server.messages == []
