"""Typed errors a person can act on.

Every failure that reaches the UI or the CLI is one of these, carrying a one-line
message safe to show (it never contains a secret access key).

botocore is imported only by `translate`, and only for an exception that is not already one of
these: commands that make no AWS call (`--help`, `policy`, an offline `simulate`) import this
module and must not pay for botocore.
"""

from __future__ import annotations

import sys


class S3CredError(Exception):
    """Base class: `message` is what a person reads."""

    def __init__(self, message: str, *, code: str | None = None, operation: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.operation = operation

    def __str__(self) -> str:
        return self.message


class ValidationError(S3CredError):
    """Bad input, found before any AWS call. `field` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message, code="ValidationError")
        self.field = field


class CredentialsMissing(S3CredError):
    pass


class CredentialsExpired(S3CredError):
    pass


class CredentialsInvalid(S3CredError):
    pass


class AccessDenied(S3CredError):
    pass


class Throttled(S3CredError):
    pass


class EndpointUnreachable(S3CredError):
    pass


class NotFound(S3CredError):
    pass


class AlreadyExists(S3CredError):
    pass


class LimitExceeded(S3CredError):
    pass


class PolicyTooLarge(S3CredError):
    pass


class Cancelled(S3CredError):
    pass


class AwsError(S3CredError):
    """Any other service error, with AWS's own code and message."""


_EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_INVALID_CODES = {
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidToken",
    "AuthFailure",
}
_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AllAccessDisabled"}
_THROTTLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "SlowDown",
    "TooManyRequestsException",
    "RequestThrottled",
}
_NOT_FOUND_CODES = {"NoSuchEntity", "NoSuchBucket", "NoSuchKey", "NotFound", "404", "NoSuchEntityException"}
_EXISTS_CODES = {"EntityAlreadyExists", "BucketAlreadyOwnedByYou", "BucketAlreadyExists"}
_LIMIT_CODES = {"LimitExceeded", "LimitExceededException"}


def is_sdk_error(exc: BaseException) -> bool:
    """Whether `exc` is botocore's (a service error or an SDK failure), without importing botocore.

    No botocore exception can exist before `botocore.exceptions` is imported, so when it is not
    loaded the answer is no.
    """
    exceptions = sys.modules.get("botocore.exceptions")
    return exceptions is not None and isinstance(exc, (exceptions.BotoCoreError, exceptions.ClientError))


def translate(exc: BaseException, operation: str | None = None) -> S3CredError:
    """Turn a botocore/boto3 exception into a typed error with a plain message."""
    if isinstance(exc, S3CredError):
        return exc
    import botocore.exceptions

    where = f" ({operation})" if operation else ""
    if isinstance(exc, (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError)):
        return CredentialsMissing(
            "No AWS credentials found. Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "run `aws configure`, or try `s3cred-tui --demo`.",
            code="NoCredentials",
            operation=operation,
        )
    if isinstance(exc, botocore.exceptions.ProfileNotFound):
        return CredentialsMissing(f"AWS profile not found: {exc.kwargs.get('profile')}", code="ProfileNotFound")
    if isinstance(exc, (botocore.exceptions.TokenRetrievalError, botocore.exceptions.SSOError)):
        return CredentialsExpired(
            "The SSO session has expired or is missing. Run `aws sso login` for this profile and try again.",
            code="SSOTokenExpired",
            operation=operation,
        )
    if isinstance(exc, botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectionError):
        return EndpointUnreachable(f"Could not reach the AWS endpoint{where}: {exc}", code="EndpointUnreachable")
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        detail = error.get("Message") or ""
        op = operation or getattr(exc, "operation_name", None)
        where = f" ({op})" if op else ""
        if code in _EXPIRED_CODES:
            return CredentialsExpired(
                f"Your AWS credentials have expired{where}. Refresh them (for SSO: `aws sso login`) and retry.",
                code=code,
                operation=op,
            )
        if code in _INVALID_CODES:
            return CredentialsInvalid(
                f"AWS did not accept these credentials{where}: {code}. Check the key id and secret, "
                "or wait a few seconds if the key was just created.",
                code=code,
                operation=op,
            )
        if code in _DENIED_CODES:
            return AccessDenied(f"Access denied{where}: {detail or 'your identity may not do this'}", code=code, operation=op)
        if code in _THROTTLE_CODES:
            return Throttled(f"AWS is throttling requests{where}; slow down and retry.", code=code, operation=op)
        if code in _NOT_FOUND_CODES:
            return NotFound(f"Not found{where}: {detail or code}", code=code, operation=op)
        if code in _EXISTS_CODES:
            return AlreadyExists(f"Already exists{where}: {detail or code}", code=code, operation=op)
        if code in _LIMIT_CODES:
            return LimitExceeded(f"AWS limit reached{where}: {detail or code}", code=code, operation=op)
        return AwsError(f"AWS error{where}: {code}: {detail}".rstrip(": "), code=code, operation=op)
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return AwsError(f"AWS SDK error{where}: {exc}", code=type(exc).__name__, operation=operation)
    return AwsError(f"Unexpected error{where}: {type(exc).__name__}: {exc}", code=type(exc).__name__, operation=operation)
