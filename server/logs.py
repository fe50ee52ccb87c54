"""Logging for every process (`serve`, `worker`, the commands): one format, one filter.

Log lines carry text Charter did not write (an SMTP server's refusal naming the
recipient, an exception, a request path) and end up on an operator's terminal or in a log
store. ``Redacting`` masks every e-mail address in them and escapes control characters,
so a line can neither carry personal data nor forge another line or steer a terminal.
It sits on the handlers, so it sees the records of every logger, uvicorn's included.
"""

from __future__ import annotations

import logging
from typing import Any

from server.terminal import printable
from tenants.redaction import mask_emails

__all__ = ["Redacting", "configure"]

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# uvicorn configures these before it imports the app, with handlers of their own.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return printable(mask_emails(value))
    if value is None or isinstance(value, int | float):
        return value  # "%d" and friends still get a number
    return printable(mask_emails(str(value)))


class Redacting(logging.Filter):
    """Masks e-mail addresses and escapes control characters in a record, in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "charter_redacted", False):
            return True  # several handlers, one record: once is enough
        if isinstance(record.msg, str):
            record.msg = printable(mask_emails(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _clean(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when set: the traceback is redacted once, here.
            trace = logging.Formatter().formatException(record.exc_info)
            record.exc_text = printable(mask_emails(trace), multiline=True)
        record.charter_redacted = True
        return True


def _guard(logger: logging.Logger) -> None:
    for handler in logger.handlers:
        if not any(isinstance(f, Redacting) for f in handler.filters):
            handler.addFilter(Redacting())


def configure(level: str) -> None:
    """The root handler (created if missing) and uvicorn's, all redacting."""
    logging.basicConfig(level=level, format=FORMAT)
    _guard(logging.getLogger())
    for name in _UVICORN:
        _guard(logging.getLogger(name))
