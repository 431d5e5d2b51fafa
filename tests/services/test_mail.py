"""Mail leaves only with a committed transaction."""

from __future__ import annotations

import email
from email import policy

from chainels_app.services import mail


def test_a_queued_mail_is_written_on_commit(session, mail_dir):
    mail.queue(
        session,
        mail.compose(to="a@b.test", locale="en", template="reset", link="http://x/r"),
    )
    assert list(mail_dir.glob("*.eml")) == []
    session.commit()

    (written,) = mail_dir.glob("*.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["To"] == "a@b.test"
    assert message["Subject"] == "Set a new password"
    assert "http://x/r" in message.get_content()


def test_a_rolled_back_mail_is_never_sent(session, mail_dir):
    mail.queue(
        session,
        mail.compose(to="a@b.test", locale="nl", template="reset", link="http://x/r"),
    )
    session.rollback()
    session.commit()
    assert list(mail_dir.glob("*.eml")) == []
