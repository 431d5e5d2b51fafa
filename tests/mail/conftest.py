"""A real SMTP server for mail tests, and settings that point the app at it.

``smtp_server`` runs aiosmtpd on 127.0.0.1 in a thread for one test. It accepts
everything unless told otherwise and keeps every message it received::

    def test_something(smtp_server, smtp_settings):
        smtp_server.refuse("gone@example.test", 550)
        SmtpTransport(smtp_settings).send(batch)
        assert [m.recipients for m in smtp_server.messages] == [["a@example.test"]]

A message counts as received once the server has answered ``250`` to its DATA,
so by the time ``smtplib`` returns it is in ``smtp_server.messages``.

``smtp_tls_server`` is the same server but insists on STARTTLS and a login (see
``SECURE_LOGIN``); ``smtp_tls_settings`` and ``smtp_tls_server.client_context()``
are what a client needs to get through.
"""

from __future__ import annotations

import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chainels_app.settings import Settings, load_settings

SECURE_LOGIN = ("mailer", "correct horse battery staple")

# The reply text aiosmtpd sends with a refusal; the code is what matters.
_REPLIES = {
    421: "4.7.0 Service shutting down",
    450: "4.2.1 Mailbox busy, try again later",
    451: "4.3.0 Local error, try again later",
    452: "4.2.2 Mailbox full",
    550: "5.1.1 Mailbox unavailable",
    552: "5.2.2 Mailbox quota exceeded",
    553: "5.1.3 Mailbox name not allowed",
    554: "5.7.1 Rejected",
}


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server got it: envelope and parsed content."""

    sender: str
    recipients: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class SmtpTestServer:
    """The handler behind ``smtp_server``: records messages, refuses on request."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[ReceivedMessage] = field(default_factory=list)
    refusals: dict[str, int] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)
    certificate: Path | None = None

    def refuse(self, address: str, code: int) -> None:
        """Answer ``RCPT TO:<address>`` with this SMTP code from now on."""
        self.refusals[address.lower()] = code

    def messages_to(self, address: str) -> list[ReceivedMessage]:
        """The messages whose envelope includes this recipient."""
        return [m for m in self.messages if address in m.recipients]

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts this server's own certificate."""
        return ssl.create_default_context(cafile=self.certificate)

    def authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        """Accept ``SECURE_LOGIN`` only, remembering who logged in."""
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        if (login, auth_data.password.decode()) != SECURE_LOGIN:
            return AuthResult(success=False, handled=False)
        self.logins.append(login)
        return AuthResult(success=True)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        code = self.refusals.get(address.lower())
        if code is not None:
            return f"{code} {_REPLIES.get(code, 'Refused')}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        received = ReceivedMessage(
            sender=envelope.mail_from,
            recipients=list(envelope.rcpt_tos),
            raw=raw,
            message=parsed,
        )
        self.messages.append(received)
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(server: SmtpTestServer, **smtp_options: Any) -> Iterator[SmtpTestServer]:
    """Serve ``server`` on its port; options go to aiosmtpd's ``SMTP``."""
    controller = Controller(
        server, hostname=server.host, port=server.port, **smtp_options
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A real SMTP server on 127.0.0.1 for one test; see the module docstring."""
    with running(SmtpTestServer(port=free_port())) as server:
        yield server


@pytest.fixture
def smtp_tls_server(tmp_path: Path) -> Iterator[SmtpTestServer]:
    """Like ``smtp_server``, but mail needs STARTTLS and ``SECURE_LOGIN`` first."""
    cert_path, key_path = self_signed_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_path, key_path)
    server = SmtpTestServer(port=free_port(), certificate=cert_path)
    options = {"tls_context": tls, "require_starttls": True, "auth_required": True}
    with running(server, authenticator=server.authenticate, **options):
        yield server


def smtp_settings_for(data_dir: Path, port: int, **extra: str) -> Settings:
    """Settings that send mail over SMTP to 127.0.0.1 on this port.

    ``extra`` adds environment variables, e.g. ``SMTP_STARTTLS="1"``.
    """
    env = {
        "DATA_DIR": str(data_dir),
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
    }
    return load_settings(env | extra)


@pytest.fixture
def smtp_settings(smtp_server: SmtpTestServer, tmp_path: Path) -> Settings:
    """Settings whose SMTP backend is ``smtp_server``."""
    return smtp_settings_for(tmp_path, smtp_server.port)


@pytest.fixture
def smtp_tls_settings(smtp_tls_server: SmtpTestServer, tmp_path: Path) -> Settings:
    """Settings that reach ``smtp_tls_server`` with STARTTLS and its login."""
    username, password = SECURE_LOGIN
    return smtp_settings_for(
        tmp_path,
        smtp_tls_server.port,
        SMTP_STARTTLS="1",
        SMTP_USERNAME=username,
        SMTP_PASSWORD=password,
    )


# Shared with every test module here (the SendGrid recorder lives in its own file).
from tests.mail.sendgrid_recorder import sendgrid_recorder  # noqa: E402, F401
