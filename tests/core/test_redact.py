"""Secrets never reach a log record: botocore's DEBUG wire logs included."""

from __future__ import annotations

import json
import logging

import boto3
import pytest
from moto import mock_aws

from s3cred_tui.core.redact import (
    REDACTED,
    REDACTED_LOGGERS,
    SecretRedactingFilter,
    install_redaction,
    redact_text,
)
from s3cred_tui.core.session import AwsContext

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLE/TOKEN+with=padding=="


@pytest.mark.parametrize(
    "text",
    [
        f"<AccessKey><SecretAccessKey>{SECRET}</SecretAccessKey></AccessKey>",
        f"<Credentials><SessionToken>{TOKEN}</SessionToken></Credentials>",
        f'{{"SecretAccessKey": "{SECRET}", "SessionToken": "{TOKEN}"}}',
        f'"{{\\"SecretAccessKey\\": \\"{SECRET}\\"}}"',  # JSON inside a JSON string
        f'{{"secretAccessKey":"{SECRET}","sessionToken":"{TOKEN}"}}',  # SSO's camelCase
        f"{{'SecretAccessKey': '{SECRET}', 'SessionToken': '{TOKEN}'}}",  # a Python dict's repr
        f"Action=Foo&SecretAccessKey={SECRET}&SessionToken={TOKEN}",
        f"aws_secret_access_key = {SECRET}\naws_session_token = {TOKEN}",
        f"export AWS_SECRET_ACCESS_KEY={SECRET}\nexport AWS_SESSION_TOKEN={TOKEN}",
        f"headers={{'X-Amz-Security-Token': b'{TOKEN}', 'Authorization': b'AWS4-HMAC-SHA256 ...'}}",
        f"host:s3.amazonaws.com\nx-amz-security-token:{TOKEN}\n",
        f"X-Amz-Security-Token: {TOKEN}\r\n",
        f"https://b.s3.amazonaws.com/k?X-Amz-Security-Token={TOKEN.replace('/', '%2F')}&X-Amz-Signature=abc",
        f'{{"SecretAccessKey": "{SECRET.replace("/", chr(92) + "/")}"}}',  # JSON's optional `\/`
    ],
)
def test_redact_text_hides_secret_values_in_every_wire_format(text):
    redacted = redact_text(text)
    assert REDACTED in redacted
    for secret in (SECRET, TOKEN, TOKEN.replace("/", "%2F")):
        assert secret not in redacted
    # No fragment of either secret survives (a value cut short at a `/` or `+` would leak the rest).
    for fragment in ("EXAMPLEKEY", "bPxRfiCY", "with=padding", "EXAMPLE/TOKEN"):
        assert fragment not in redacted


def test_redact_text_leaves_ordinary_text_and_signatures_alone():
    text = (
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20240101/us-east-1/iam/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0123abcd; the SecretAccessKey is shown once; token bucket"
    )
    assert redact_text(text) == text


@pytest.fixture
def redaction():
    install_redaction()
    yield


def test_install_is_idempotent(redaction):
    factory = logging.getLogRecordFactory()
    install_redaction()
    install_redaction()
    assert logging.getLogRecordFactory() is factory
    for name in REDACTED_LOGGERS:
        filters = [f for f in logging.getLogger(name).filters if isinstance(f, SecretRedactingFilter)]
        assert len(filters) == 1, name


def test_creating_a_session_installs_redaction(caplog, monkeypatch):
    # Undo any earlier installation so this proves that the session itself installs it.
    previous_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "filters", [f for f in logger.filters if not isinstance(f, SecretRedactingFilter)])
    try:
        with mock_aws():
            AwsContext()
        assert logging.getLogRecordFactory() is not logging.LogRecord
    finally:
        logging.setLogRecordFactory(previous_factory)
    with mock_aws():
        AwsContext()  # installs it again under the restored factory
        AwsContext()
    caplog.set_level(logging.DEBUG, logger="botocore.parsers")
    logging.getLogger("botocore.parsers").debug("Response body:\n%r", f"<SecretAccessKey>{SECRET}</SecretAccessKey>".encode())
    assert SECRET not in caplog.text
    assert f"<SecretAccessKey>{REDACTED}</SecretAccessKey>" in caplog.text


def test_records_are_redacted_in_args_bytes_exceptions_and_bad_formats(redaction, caplog):
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("embedding.program")
    log.debug("Response body:\n%r", f"<SessionToken>{TOKEN}</SessionToken>".encode())
    log.info("creds %s", {"SecretAccessKey": SECRET})
    log.info("%(who)s got SessionToken=%(token)s", {"who": "me", "token": TOKEN})
    try:
        raise RuntimeError(f"aws_secret_access_key={SECRET}")
    except RuntimeError:
        log.exception("failed")
    rendered = [record.getMessage() for record in caplog.records] + [caplog.text]
    rendered += [repr(record.args) + str(record.msg) + str(record.exc_text) for record in caplog.records]
    assert len(caplog.records) == 4
    # Arguments that do not fit the format: logging's error report prints msg and args as they are.
    misfit = log.makeRecord(log.name, logging.WARNING, __file__, 1, "too few %s %s", (f"SecretAccessKey={SECRET}",), None)
    rendered.append(repr(misfit.msg) + repr(misfit.args))
    for text in rendered:
        assert SECRET not in text
        assert TOKEN not in text


@mock_aws
def test_botocore_debug_logs_never_show_a_new_key_or_session_token(caplog, capsys):
    """The issue's reproduction: botocore DEBUG on, create a key and assume a role, use the
    temporary credentials (token in a header) and presign a URL (token in the query)."""
    ctx = AwsContext()
    stream_logger_output = []

    class ListHandler(logging.Handler):
        def emit(self, record):
            stream_logger_output.append(self.format(record))

    handler = ListHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s [%(levelname)s] %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    boto3.set_stream_logger("", logging.DEBUG)  # what an embedding program would do
    caplog.set_level(logging.DEBUG)
    root_level = root.level
    try:
        ctx.iam.create_user(UserName="alice")
        key = ctx.iam.create_access_key(UserName="alice")["AccessKey"]
        ctx.iam.create_role(
            RoleName="helper",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
                }
            ),
        )
        role = ctx.sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/helper", RoleSessionName="probe")
        temporary = role["Credentials"]
        session_ctx = ctx.for_keys(temporary["AccessKeyId"], temporary["SecretAccessKey"], temporary["SessionToken"])
        session_ctx.s3.list_buckets()
        session_ctx.s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    finally:
        root.removeHandler(handler)
        for existing in list(root.handlers):
            if type(existing) is logging.StreamHandler and existing.level == logging.DEBUG:
                root.removeHandler(existing)  # the one set_stream_logger added
        root.setLevel(root_level)

    secrets = [key["SecretAccessKey"], temporary["SecretAccessKey"], temporary["SessionToken"]]
    messages = [record.getMessage() for record in caplog.records]
    # The test means something only if botocore really logged the bodies and the signed request.
    assert any(f"<SecretAccessKey>{REDACTED}</SecretAccessKey>" in m and "CreateAccessKey" in m for m in messages)
    assert any(f"<SessionToken>{REDACTED}</SessionToken>" in m for m in messages)
    assert any(f"x-amz-security-token:{REDACTED}" in m for m in messages)
    outputs = messages + [caplog.text, *stream_logger_output, capsys.readouterr().err]
    for secret in secrets:
        for output in outputs:
            assert secret not in output
            assert secret.replace("/", "%2F").replace("+", "%2B") not in output
