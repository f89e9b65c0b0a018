"""The points where the demo plugs into moto, checked when this module is imported.

The demo authorizer replaces moto's partial IAM check and fills a few of its gaps (federation
tokens, user permissions boundaries, calls moto does not implement). It relies on moto
internals, so the moto versions it was tested with are pinned (the `demo` extra in
pyproject.toml says the same range) and every internal it touches is checked here, once, at
import. If one moved, the demo refuses to start with a message naming it: it never falls back
silently to moto's own check, which would let the demo contradict what the tool promises.
"""

from __future__ import annotations

import inspect
from typing import Any

from s3cred_tui.core.errors import S3CredError

# Keep in step with the `demo` extra in pyproject.toml.
TESTED_MOTO = ((5, 2, 5), (5, 3, 0))  # from (inclusive), to (exclusive)
TESTED_MOTO_TEXT = "moto>=5.2.5,<5.3"


class DemoUnavailable(S3CredError):
    """The installed moto is not one the demo's authorizer can plug into."""

    def __init__(self, message: str):
        super().__init__(
            f"The demo cannot start: {message} The demo is tested with {TESTED_MOTO_TEXT}; "
            f"install it with: pip install 's3cred-tui[demo]'",
            code="DemoUnavailable",
        )


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise DemoUnavailable(f"moto's {what} is not where the demo expects it (moto has changed).")


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def _parameters(function: Any) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return []


def _check() -> None:
    try:
        import moto
        from moto.core import authorization
        from moto.iam import access_control
        from moto.iam import models as iam_models
        from moto.iam import responses as iam_responses
        from moto.s3 import models as s3_models
        from moto.s3 import responses as s3_responses
        from moto.sts import models as sts_models
        from moto.sts import responses as sts_responses
    except ImportError as exc:
        raise DemoUnavailable(f"moto or one of its modules is missing ({exc.name}).") from None

    version = getattr(moto, "__version__", "0")
    low, high = TESTED_MOTO
    if not (low <= _version_tuple(version) < high):
        raise DemoUnavailable(f"this is moto {version}, outside the range its authorizer was tested with.")

    # The authorization hook: every IAM, STS and S3 request goes through
    # ActionAuthenticatorMixin._authenticate_and_authorize_action, which builds an
    # IAMRequest/S3IAMRequest and calls check_action_permitted(resource) on it.
    base = getattr(access_control, "IAMRequestBase", None)
    _require(base is not None, "access_control.IAMRequestBase")
    _require(_parameters(getattr(base, "check_action_permitted", None)) == ["self", "resource"],
             "IAMRequestBase.check_action_permitted(self, resource)")
    init = _source(base.__init__)
    for attribute in ("self._access_key", "self._action", "self._data", "self._headers", "self._path", "self._region",
                      "self._method", "self._body", "self._service", "self.account_id"):
        _require(attribute in init, f"IAMRequestBase attribute {attribute}")
    for name in ("_raise_access_denied", "_raise_invalid_access_key"):
        _require(callable(getattr(base, name, None)), f"IAMRequestBase.{name}")
    _require(isinstance(getattr(access_control, "S3IAMRequest", None), type), "access_control.S3IAMRequest")
    _require(isinstance(getattr(access_control, "IAMRequest", None), type), "access_control.IAMRequest")
    _require("check_action_permitted(resource)" in _source(authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action),
             "ActionAuthenticatorMixin._authenticate_and_authorize_action")
    user_key = getattr(access_control, "IAMUserAccessKey", None)
    role_key = getattr(access_control, "AssumedRoleAccessKey", None)
    _require(user_key is not None and "self._owner_user_name" in _source(user_key.__init__), "IAMUserAccessKey._owner_user_name")
    _require(role_key is not None and "self._access_key_id" in _source(role_key.__init__), "AssumedRoleAccessKey._access_key_id")

    # Sessions: an assumed role keeps its session policy; federation tokens are stored as one.
    assumed = getattr(sts_models, "AssumedRole", None)
    _require(
        assumed is not None
        and _parameters(assumed.__init__)
        == ["self", "account_id", "region_name", "access_key", "role_session_name", "role_arn", "policy", "duration", "external_id"],
        "sts.models.AssumedRole(account_id, region_name, access_key, role_session_name, role_arn, policy, duration, external_id)",
    )
    _require(hasattr(sts_models, "sts_backends"), "sts.models.sts_backends")
    _require(callable(getattr(sts_responses.TokenResponse, "get_federation_token", None)), "TokenResponse.get_federation_token")
    _require(callable(getattr(iam_models.IAMBackend, "create_temp_access_key", None)), "IAMBackend.create_temp_access_key")
    _require(hasattr(iam_models, "iam_backends"), "iam.models.iam_backends")

    # IAM responses the demo completes.
    _require(callable(getattr(iam_responses.IamResponse, "create_user", None)), "IamResponse.create_user")
    _require(isinstance(getattr(iam_responses.IamResponse, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None), dict),
             "IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER")

    # Bucket owners and bucket policies. moto also applies a bucket policy's Deny itself (with its
    # own partial reading) before authorization, through FakeBucket.get_permission, from
    # S3Response._key_response and _bucket_response; the demo leaves that to its authorizer.
    _require(hasattr(s3_models, "s3_backends") and hasattr(s3_models.s3_backends, "bucket_accounts"),
             "s3.models.s3_backends.bucket_accounts")
    _require(_parameters(getattr(s3_models.FakeBucket, "get_permission", None)) == ["self", "action", "resource"],
             "FakeBucket.get_permission(self, action, resource)")
    for name in ("_key_response", "_bucket_response"):
        _require(_parameters(getattr(s3_responses.S3Response, name, None)) == ["self", "request", "full_url"],
                 f"S3Response.{name}(self, request, full_url)")


_check()
