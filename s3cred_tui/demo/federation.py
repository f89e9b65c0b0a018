"""Working federation tokens in the demo.

moto's GetFederationToken answers a fixed example key that nothing accepts. In the demo it
makes a real session instead: a fresh ASIA key, secret and session token kept next to moto's
assumed-role sessions (so moto's authentication and GetCallerIdentity find it), remembered with
the IAM user who asked and the policy passed. The demo authorizer then grants what AWS would:
the user's permissions intersected with that policy ("GetFederationToken", AWS STS API
reference), none at all without a policy, and no IAM or STS call except GetCallerIdentity.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.iam.models import iam_backends
from moto.sts.models import AssumedRole, sts_backends
from moto.sts.responses import TokenResponse

from s3cred_tui.core.simulate import PolicyError, RequestContext, evaluate
from s3cred_tui.demo.principals import managed_document

# "GetFederationToken": DurationSeconds 900-129,600 (3,600 for the root user); Name 2-32
# characters of [\w+=,.@-]; the packed policies at most 2,048 characters of plain text.
MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 900, 129_600, 43_200
_NAME = re.compile(r"^[\w+=,.@-]{2,32}$")
MAX_POLICY_CHARACTERS = 2048
_EMPTY_POLICY = {"Version": "2012-10-17", "Statement": []}


class _StsError(ServiceException):
    pass


class FederatedSession(AssumedRole):
    """A federation-token session: moto's AssumedRole shape, a federated-user identity."""

    def __init__(self, *, account_id: str, region_name: str, access_key: Any, name: str, user_name: str,
                 user_arn: str, policy_text: str | None, session_document: dict, duration: int):
        super().__init__(
            account_id=account_id,
            region_name=region_name,
            access_key=access_key,
            role_session_name=name,
            role_arn=user_arn,
            policy=policy_text,
            duration=duration,
            external_id=None,
        )
        self.user_name = user_name
        self.session_document = session_document

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:sts::{self.account_id}:federated-user/{self.session_name}"

    @property
    def user_id(self) -> str:
        return f"{self.account_id}:{self.session_name}"


def _policy_arns(raw: Any) -> list[str]:
    if not raw:
        return []
    items = raw if isinstance(raw, list) else [raw]
    arns = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("arn") or item.get("Arn")
        if isinstance(item, str) and item:
            arns.append(item)
    return arns


def session_document(policy_text: str | None, managed: list[dict]) -> dict:
    """The session policy layer: the inline policy and the managed session policies together.

    Without any, "the resulting federated user session has no permissions": an empty policy,
    which allows nothing.
    """
    documents = ([json.loads(policy_text)] if policy_text else []) + managed
    if not documents:
        return dict(_EMPTY_POLICY)
    statements: list[Any] = []
    for document in documents:
        raw = document.get("Statement", [])
        statements += raw if isinstance(raw, list) else [raw]
    return {"Version": documents[0].get("Version", "2008-10-17"), "Statement": statements}


def get_federation_token(response: TokenResponse) -> ActionResult:
    """The demo's GetFederationToken, called with moto's TokenResponse after authorization."""
    account, partition = response.current_account, response.partition
    iam = iam_backends[account][partition]
    user = iam.get_user_from_access_key_id(response.get_access_key())
    if user is None:
        raise _StsError("AccessDenied", "Cannot call GetFederationToken with session credentials")
    name = response._get_param("Name") or ""
    if not _NAME.match(name):
        raise _StsError("ValidationError", f"Name must be 2 to 32 characters of letters, digits and +=,.@_-, got {name!r}.")
    duration = response._get_int_param("DurationSeconds", DEFAULT_DURATION)
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise _StsError("ValidationError", f"DurationSeconds must be between {MIN_DURATION} and {MAX_DURATION}, got {duration}.")
    policy_text = response._get_param("Policy")
    if policy_text is not None and len(policy_text) > MAX_POLICY_CHARACTERS:
        raise _StsError("PackedPolicyTooLarge", f"The session policy is {len(policy_text)} characters; at most {MAX_POLICY_CHARACTERS}.")
    managed = []
    for arn in _policy_arns(response._get_param("PolicyArns")):
        policy = iam.managed_policies.get(arn)
        if policy is None:
            raise _StsError("ValidationError", f"Policy {arn} does not exist or is not attachable.")
        managed.append(managed_document(policy))
    try:
        document = session_document(policy_text, managed)
        # The evaluator reads every policy completely before deciding: refuse now what it cannot read.
        evaluate(RequestContext("sts:GetCallerIdentity", "*"), [], session_policy=("session policy", document))
    except (ValueError, PolicyError) as exc:
        raise _StsError("MalformedPolicyDocument", f"The session policy is not a valid policy: {exc}") from None

    session = FederatedSession(
        account_id=account,
        region_name=response.region,
        access_key=iam.create_temp_access_key(),
        name=name,
        user_name=user.name,
        user_arn=user.arn,
        policy_text=policy_text,
        session_document=document,
        duration=duration,
    )
    sts_backends[account][partition].assumed_roles.append(session)
    packed = len(json.dumps(document, separators=(",", ":")))
    return ActionResult(
        {
            "Credentials": {
                "AccessKeyId": session.access_key_id,
                "SecretAccessKey": session.secret_access_key,
                "SessionToken": session.session_token,
                "Expiration": session.expiration,
            },
            "FederatedUser": {"FederatedUserId": session.user_id, "Arn": session.arn},
            "PackedPolicySize": min(100, math.ceil(packed * 100 / MAX_POLICY_CHARACTERS)),
        }
    )
