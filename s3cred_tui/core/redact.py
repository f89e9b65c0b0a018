"""Keep secret access keys and session tokens out of every log record.

With DEBUG logging on (a program embedding the core, or a future `--debug`), botocore logs
the raw CreateAccessKey / AssumeRole / GetFederationToken response bodies, the request
headers (`X-Amz-Security-Token`) and the SigV4 canonical request (`x-amz-security-token:…`).
`install_redaction()` makes every record pass through `redact_text` before any handler
sees it.

Why a record factory as well as a filter: a filter on a logger only sees records logged
to that very logger, not those propagated from its children (`botocore.parsers` is a child
of `botocore`), and handlers added later (`boto3.set_stream_logger`, pytest's caplog) would
not carry it. Wrapping the record factory covers every record of every logger, whatever
handlers exist now or later; the filter on the named loggers covers records made after
someone else replaces the factory.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

REDACTED = "[REDACTED]"

# Field names whose value is a secret, in the spellings AWS APIs, SDK configs, environment
# variables and HTTP headers use. The access key id and the Authorization signature are not
# secrets (a signature proves one request and cannot be replayed for another).
_SECRET_NAMES = (
    r"(?:aws_)?secret_?access_?key"
    r"|secret_?key"
    r"|(?:aws_)?session_?token"
    r"|(?:aws_)?security_?token"
    r"|x-amz-security-token"
)
# `<SecretAccessKey>…</SecretAccessKey>` in XML response bodies (IAM, STS).
_XML_ELEMENT = re.compile(rf"(<(?P<tag>{_SECRET_NAMES})>)[^<]*(</(?P=tag)>)", re.IGNORECASE)
# `"SecretAccessKey": "…"`, `'X-Amz-Security-Token': b'…'`, `SecretAccessKey=…` (form or query),
# `aws_secret_access_key = …` (INI), `x-amz-security-token:…` (canonical request), and the
# same with JSON-escaped quotes (`\"SessionToken\": \"…\"`) when JSON is embedded in a string.
_KEY_VALUE = re.compile(
    rf"(?P<key>\b(?:{_SECRET_NAMES})(?:\\?[\"'])?\s*[:=]\s*(?:b?\\?[\"'])?)"
    # A backslash escape (`\/` in JSON) stays inside the value; an escaped quote ends it.
    r"(?P<value>(?:\\[^\"']|[^\s\"'\\&<>,;)}\]])+)",
    re.IGNORECASE,
)
# A cheap test first: most records mention neither word and skip the regular expressions.
_HINTS = ("secret", "token")


def redact_text(text: str) -> str:
    """`text` with the value of every secret-looking field replaced by `[REDACTED]`."""
    lowered = text.lower()
    if not any(hint in lowered for hint in _HINTS):
        return text
    text = _XML_ELEMENT.sub(rf"\g<1>{REDACTED}\g<3>", text)
    return _KEY_VALUE.sub(rf"\g<key>{REDACTED}", text)


def _redact_value(value: Any) -> Any:
    """An argument as it was if it holds no secret, else its redacted text."""
    if isinstance(value, bytes):
        text = value.decode("utf-8", "backslashreplace")
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = repr(value)
        except Exception:
            return "<unprintable>"
    redacted = redact_text(text)
    return value if redacted == text else redacted


def redact_record(record: logging.LogRecord) -> None:
    """Redact the record in place: its message and args, exception text and stack."""
    try:
        message = record.getMessage()
    except Exception:
        # The arguments do not fit the format. logging's own error report prints the args,
        # so redact each one rather than leave them for it.
        record.msg = redact_text(str(record.msg))
        if isinstance(record.args, dict):
            record.args = {key: _redact_value(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_redact_value(value) for value in record.args)
    else:
        redacted = redact_text(message)
        if redacted != message:
            # The secret may be in the format or in any argument (bytes bodies, request
            # objects): the rendered, redacted message replaces both.
            record.msg = redacted
            record.args = ()
    if record.exc_info and not record.exc_text:
        record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)


class SecretRedactingFilter(logging.Filter):
    """Redacts secrets from each record it sees and lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


# The loggers that carry AWS traffic, plus the root logger every record reaches.
REDACTED_LOGGERS = ("", "botocore", "boto3", "urllib3", "s3transfer")

_install_lock = threading.Lock()
_FACTORY_MARK = "_s3cred_redacting"


def _redacting_factory(previous: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact_record(record)
        return record

    setattr(factory, _FACTORY_MARK, True)
    return factory


def install_redaction() -> None:
    """Redact every log record from now on. Safe to call any number of times, from any thread."""
    with _install_lock:
        current = logging.getLogRecordFactory()
        if not getattr(current, _FACTORY_MARK, False):
            logging.setLogRecordFactory(_redacting_factory(current))
        for name in REDACTED_LOGGERS:
            logger = logging.getLogger(name)
            if not any(isinstance(f, SecretRedactingFilter) for f in logger.filters):
                logger.addFilter(SecretRedactingFilter())
