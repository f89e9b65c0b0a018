"""The demo authorizer: every request to the demo server is decided by s3cred-tui's evaluator.

moto 5.2 enforces identity policies only; it ignores Condition blocks, session policies,
permissions boundaries, federation-token policies and bucket-policy grants, so a key the tool
scopes correctly would look leaky in the demo. For requests to a demo server (recognised by the
port in their Host header, so other moto servers in the same process keep moto's behaviour)
this module replaces moto's check with `core.simulate.evaluate`, given everything AWS would
use: the caller's identity policies, its boundary, its session policy, the bucket's policy or
the role's trust policy with the resource's owner, and the request context (see
`request_context.py`). It also completes what moto lacks there: working federation tokens
(`federation.py`) and the IAM calls in `iam_gaps.py`.

Authentication stays moto's (keys and signatures); inactive keys and expired sessions, which
moto accepts, are refused. The hook points are checked when `moto_hooks` is imported: if they
moved, the demo refuses to start instead of quietly falling back to moto's partial check.

`install(port)` / `uninstall(port)` switch it on and off for one server; `recent_decisions()`
says what it decided lately (the tests use it to prove the evaluator, not moto, answered).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

# First, before any moto internal is imported: refuse to go on if they moved (DemoUnavailable
# names what moved, instead of an ImportError or a silent fallback).
from s3cred_tui.demo import moto_hooks  # noqa: F401

# isort: split
from moto.core.serialize import never_return
from moto.iam import access_control
from moto.iam.access_control import PermissionResult
from moto.iam.responses import IamResponse
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response
from moto.sts.responses import TokenResponse

from s3cred_tui.core.simulate import Decision, PolicyError, RequestContext, evaluate
from s3cred_tui.demo import federation, iam_gaps
from s3cred_tui.demo.principals import Principal, resolve
from s3cred_tui.demo.request_context import (
    Check,
    iam_sts_checks,
    missing_object_check,
    s3_checks,
)

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class AuthorizedRequest:
    """One decision the demo authorizer made."""

    principal_arn: str
    action: str
    resource: str
    decision: Decision


_lock = threading.Lock()
_ports: set[int] = set()
_decisions: deque[AuthorizedRequest] = deque(maxlen=1000)
_originals: dict[str, Any] = {}
# Set while an S3 request to a demo server is being answered (the server answers each request
# on its own thread), so moto's own bucket-policy pre-check stands aside for it.
_serving = threading.local()


def _port_of(headers: Any) -> int | None:
    host = headers.get("Host") if hasattr(headers, "get") else None
    if not host or ":" not in host:
        return None
    try:
        return int(host.rsplit(":", 1)[1])
    except ValueError:
        return None


def is_demo_request(headers: Any) -> bool:
    return _port_of(headers) in _ports


def recent_decisions() -> list[AuthorizedRequest]:
    with _lock:
        return list(_decisions)


def _record(principal: Principal, check: Check, decision: Decision) -> None:
    with _lock:
        _decisions.append(AuthorizedRequest(principal.arn, check.action, check.resource, decision))
    log.debug("%s %s %s: %s", principal.arn, check.action, check.resource, decision.reason)


def _decide(principal: Principal, check: Check) -> Decision:
    request = RequestContext(check.action, check.resource, check.context, principal.arn)
    try:
        decision = evaluate(
            request,
            principal.identity_policies,
            session_policy=principal.session_policy,
            boundary=principal.boundary,
            resource_policy=check.resource_policy,
            resource_account=check.resource_account,
        )
    except (PolicyError, ValueError) as exc:
        # A policy the evaluator cannot read decides nothing in the caller's favour.
        decision = Decision(False, "ImplicitDeny", f"denied: a policy could not be evaluated ({exc})", [])
    _record(principal, check, decision)
    return decision


def _federated_refusal(principal: Principal, check: Check) -> Decision | None:
    # A federated user session "cannot call any IAM API operations" and "cannot call any AWS STS
    # API operations except GetCallerIdentity" (GetFederationToken, AWS STS API reference).
    if principal.kind == "federated-user" and check.action.split(":", 1)[0].lower() in ("iam", "sts"):
        decision = Decision(False, "ImplicitDeny", f"a federated user session cannot call {check.action}", [])
        _record(principal, check, decision)
        return decision
    return None


def _authorize(iam_request: Any, moto_resource: str) -> None:
    if iam_request._action == "sts:GetCallerIdentity":
        return  # "No permissions are required to perform this operation" (GetCallerIdentity)
    partition = _partition(iam_request._region)
    principal = resolve(iam_request._access_key, iam_request.account_id, partition)
    if principal.unusable:
        log.debug("%s refused: %s", principal.arn, principal.unusable)
        iam_request._raise_invalid_access_key("InvalidToken" if principal.temporary else "InvalidId")
    if isinstance(iam_request, access_control.S3IAMRequest):
        checks = s3_checks(iam_request, moto_resource, principal)
    else:
        checks = iam_sts_checks(iam_request, moto_resource, principal)
    for check in checks:
        decision = _federated_refusal(principal, check) or _decide(principal, check)
        if not decision.allowed:
            iam_request._raise_access_denied()
        listing = missing_object_check(check, iam_request._method)
        if listing is not None and not _decide(principal, listing).allowed:
            iam_request._raise_access_denied()


def _partition(region: str) -> str:
    from moto.utilities.utils import get_partition

    return get_partition(region)


# ------------------------------------------------------------------------------------ the patches


def _check_action_permitted(self: Any, resource: str) -> None:
    if is_demo_request(self._headers):
        _authorize(self, resource)
    else:
        _originals["check_action_permitted"](self, resource)


def _s3_entry(name: str) -> Any:
    def entry(self: Any, request: Any, full_url: str) -> Any:
        previous = getattr(_serving, "demo", False)
        _serving.demo = is_demo_request(request.headers)
        try:
            return _originals[name](self, request, full_url)
        finally:
            _serving.demo = previous

    entry.__name__ = name
    return entry


def _get_permission(self: Any, action: str, resource: str) -> Any:
    # moto reads bucket policies partially (a statement whose Condition it cannot check counts as
    # a Deny); in the demo the authorizer applies them, with every rule, to every request.
    if getattr(_serving, "demo", False):
        return PermissionResult.NEUTRAL
    return _originals["get_permission"](self, action, resource)


def _get_federation_token(self: Any) -> Any:
    if is_demo_request(self.headers):
        return federation.get_federation_token(self)
    return _originals["get_federation_token"](self)


def _create_user(self: Any) -> Any:
    if is_demo_request(self.headers):
        return iam_gaps.create_user(self, _originals["create_user"])
    return _originals["create_user"](self)


def _new_action(name: str, handler: Any) -> Any:
    def action(self: Any) -> Any:
        if not is_demo_request(self.headers):
            raise NotImplementedError(f"The {name} action has not been implemented")  # as moto says
        return handler(self)

    action.__name__ = name
    return action


def _patch() -> None:
    _originals["check_action_permitted"] = access_control.IAMRequestBase.check_action_permitted
    _originals["get_federation_token"] = TokenResponse.get_federation_token
    _originals["create_user"] = IamResponse.create_user
    access_control.IAMRequestBase.check_action_permitted = _check_action_permitted
    for name in ("_key_response", "_bucket_response"):
        _originals[name] = S3Response.__dict__[name]
        setattr(S3Response, name, _s3_entry(name))
    _originals["get_permission"] = FakeBucket.get_permission
    FakeBucket.get_permission = _get_permission
    TokenResponse.get_federation_token = _get_federation_token
    IamResponse.create_user = _create_user
    for name, handler in iam_gaps.NEW_ACTIONS.items():
        setattr(IamResponse, name, _new_action(name, handler))
    _originals["list_users_transformer"] = IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER.get(iam_gaps.LIST_USERS_HIDES)
    IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER[iam_gaps.LIST_USERS_HIDES] = never_return


def _unpatch() -> None:
    access_control.IAMRequestBase.check_action_permitted = _originals.pop("check_action_permitted")
    for name in ("_key_response", "_bucket_response"):
        setattr(S3Response, name, _originals.pop(name))
    FakeBucket.get_permission = _originals.pop("get_permission")
    TokenResponse.get_federation_token = _originals.pop("get_federation_token")
    IamResponse.create_user = _originals.pop("create_user")
    for name in iam_gaps.NEW_ACTIONS:
        if name in IamResponse.__dict__:
            delattr(IamResponse, name)
    previous = _originals.pop("list_users_transformer")
    if previous is None:
        IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER.pop(iam_gaps.LIST_USERS_HIDES, None)
    else:
        IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER[iam_gaps.LIST_USERS_HIDES] = previous


def install(port: int) -> None:
    """Authorize every request that reaches `port` with the evaluator (until `uninstall(port)`)."""
    with _lock:
        if not _ports:
            _patch()
        _ports.add(port)


def uninstall(port: int) -> None:
    with _lock:
        _ports.discard(port)
        if not _ports and _originals:
            _unpatch()
