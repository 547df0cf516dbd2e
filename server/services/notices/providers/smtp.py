"""E-mail notices over SMTP (smtplib): STARTTLS or implicit TLS, optional login, short timeouts."""
from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from ....models import utcnow
from .base import NoticeProvider, OutgoingNotice, ProviderRejected, ProviderUnavailable


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"SMTP {code} {' '.join(text.split())}"[:250]


class SmtpProvider(NoticeProvider):
    """Sends through one SMTP server (the office's mail server or a relay).

    ``starttls`` (default) upgrades a plain connection (port 587); ``ssl`` connects with
    implicit TLS (port 465); neither: plain SMTP (a local relay on port 25). ``verify``:
    check the server's certificate (against ``ca_file`` when given). Every socket
    operation times out after ``timeout`` seconds. A 5xx answer to the recipient or the
    message is permanent (ProviderRejected); a refused login or sender is the office's
    configuration, so it is retried (ProviderUnavailable) like a server that is down.
    """

    kind = "smtp"

    def __init__(
        self, *, host: str, sender: str, port: int | None = None, starttls: bool = True, ssl: bool = False,
        user: str | None = None, password: str | None = None, timeout: float = 10.0, verify: bool = True,
        ca_file: str | None = None,
    ) -> None:
        if starttls and ssl:
            raise ValueError("smtp: choose starttls or ssl, not both")
        if not parseaddr(sender)[1]:
            raise ValueError("smtp: sender must be an e-mail address")
        self.host, self.sender, self.starttls, self.ssl = host, sender, starttls, ssl
        self.port = port or (465 if ssl else 587 if starttls else 25)
        self.user, self._password, self.timeout = user, password, float(timeout)
        self.verify, self.ca_file = verify, ca_file

    def __repr__(self) -> str:  # never the password
        return f"SmtpProvider({self.host}:{self.port}, starttls={self.starttls}, ssl={self.ssl}, user={self.user!r})"

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        if not self.verify:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        return context

    def message(self, notice: OutgoingNotice) -> EmailMessage:
        """The e-mail for ``notice``. Its Message-ID is fixed per notice, so a copy sent
        again after a crash (see ``outbox``) is recognisably the same message."""
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "loket.local"
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, notice.recipient, notice.subject
        msg["Date"] = format_datetime(utcnow())
        msg["Message-ID"] = f"<loket-notice-{notice.id}.{re.sub(r'[^A-Za-z0-9.-]', '.', notice.dedupe_key)}@{domain}>"
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(notice.body)
        return msg

    def send(self, notice: OutgoingNotice) -> str:
        msg = self.message(notice)
        smtp: smtplib.SMTP
        try:
            if self.ssl:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as e:
            raise ProviderUnavailable(f"SMTP {self.host}:{self.port} unreachable: {e}"[:250]) from None
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self._password or "")
            smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as e:
            code, text = next(iter(e.recipients.values()))
            raise (ProviderRejected if 500 <= code < 600 else ProviderUnavailable)(_reply(code, text)) from None
        except smtplib.SMTPDataError as e:
            raise (ProviderRejected if 500 <= e.smtp_code < 600 else ProviderUnavailable)(
                _reply(e.smtp_code, e.smtp_error)) from None
        except smtplib.SMTPResponseException as e:  # login, sender, STARTTLS: the office's setup
            raise ProviderUnavailable(_reply(e.smtp_code, e.smtp_error)) from None
        except (OSError, smtplib.SMTPException) as e:
            raise ProviderUnavailable(f"SMTP {self.host}:{self.port}: {e}"[:250]) from None
        finally:
            _close(smtp)
        return msg["Message-ID"]


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT, ignoring any error: once the server accepted the message it is sent."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
