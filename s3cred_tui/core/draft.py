"""A request judged once: its problems, its normalised form, its policy and that policy's size.

The create form, the command line and the planner all start from `draft_request`, so a request
is checked by one set of rules, its policy is built by one function (`policies.policy_for_request`)
and measured against one limit (`policies.policy_limit`). Pure: no AWS call.

Public API:
- `Draft(request, problems, policy, size, limit, limit_name)`: `.ok`, `.policy_text`
- `draft_request(req) -> Draft`
- `validate_request(req) -> CredentialRequest`: the normalised request, or its first problem raised
- `request_problems(req) -> list[ValidationError]`
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from s3cred_tui.core import policies
from s3cred_tui.core.errors import PolicyTooLarge, ValidationError
from s3cred_tui.core.request import (
    AccessLevel,
    CredentialKind,
    CredentialRequest,
    PrefixMode,
)
from s3cred_tui.core.validation import (
    DEFAULT_DURATION_SECONDS,
    default_user_name,
    duration_range,
    normalise_prefixes,
    parse_duration,
    check_key_listing,
    validate_bucket_name,
    validate_object_key,
    validate_policy_document,
    validate_role_name,
    validate_statement,
    validate_user_name,
)

_T = TypeVar("_T")


@dataclass(frozen=True)
class Draft:
    """What a request would give: every problem with it, and the policy the credentials would get."""

    request: CredentialRequest  # normalised copy when valid; as given otherwise
    problems: tuple[ValidationError, ...]  # every problem, in form order (empty when ok)
    policy: dict[str, Any] | None  # the custom or generated policy; None when it cannot be built
    size: int  # policies.policy_size(policy); 0 without a policy
    limit: int  # the size limit for this kind of credentials
    limit_name: str  # what AWS calls that policy ("session policy", "inline user policy")

    @property
    def ok(self) -> bool:
        return not self.problems and self.policy is not None

    @property
    def policy_text(self) -> str:
        """The policy as indented JSON ("" without one)."""
        return policies.policy_json(self.policy) if self.policy is not None else ""


def draft_request(req: CredentialRequest) -> Draft:
    """Check every field, build the policy when its inputs are sound, and measure it against its limit.

    The policy is built even when other fields (user name, duration) have problems, so a form can
    show it while a person fixes them; a policy over the limit is still returned, with the problem.
    """
    problems: list[ValidationError] = []

    def check(func: Callable[..., _T], *args: Any) -> _T | None:
        try:
            return func(*args)
        except ValidationError as exc:
            problems.append(exc)
            return None

    buckets = tuple(req.buckets) if req.buckets else ()
    if not buckets:
        problems.append(ValidationError("buckets", "Choose at least one bucket."))
    valid_buckets = [name for name in (check(validate_bucket_name, b) for b in buckets) if name is not None]
    seen: set[str] = set()
    for name in valid_buckets:
        if name in seen:
            problems.append(ValidationError("buckets", f"Bucket {name!r} is listed twice; list each bucket once."))
        seen.add(name)
    buckets_ok = bool(buckets) and len(valid_buckets) == len(buckets) == len(seen)

    prefix_mode = PrefixMode(req.prefix_mode)
    # `prefix` and `prefixes` together; each refused one is a problem of its own.
    given_prefixes = ((req.prefix,) if req.prefix else ()) + tuple(req.prefixes or ())
    prefix_results = [check(normalise_prefixes, (p,), prefix_mode) for p in given_prefixes]
    all_prefixes = normalise_prefixes(given_prefixes, prefix_mode) if None not in prefix_results else None
    prefix = None if all_prefixes is None else (all_prefixes[0] if all_prefixes else "")
    keys = tuple(req.keys or ())
    valid_keys = [k for k in (check(validate_object_key, key) for key in keys) if k is not None]
    keys_ok = len(valid_keys) == len(keys)
    problems_before_listing = len(problems)
    check(check_key_listing, keys, req.list_keys, req.access)
    listing_ok = len(problems) == problems_before_listing

    kind = CredentialKind(req.kind)
    if kind.temporary:
        if req.duration_seconds is not None:
            check(parse_duration, req.duration_seconds, duration_range(kind))
        if req.username is not None:
            problems.append(
                ValidationError(
                    "username",
                    "A user name is only used for permanent keys; temporary credentials do not create a user.",
                )
            )
    else:
        if req.duration_seconds is not None:
            problems.append(
                ValidationError(
                    "duration",
                    "Permanent keys do not expire; clear the duration or choose temporary credentials.",
                )
            )
        if req.username is not None:
            check(validate_user_name, req.username)

    if req.role_name is not None:
        if kind is CredentialKind.ASSUME_ROLE:
            check(validate_role_name, req.role_name)
        else:
            problems.append(ValidationError("role", "A role name is only used for assume-role credentials."))

    access = AccessLevel(req.access)
    source_ok = True  # the custom policy or the extra statements the policy is built from
    if access is AccessLevel.CUSTOM:
        if req.custom_policy is None:
            problems.append(ValidationError("policy", "Custom access needs a policy document; paste or load one."))
            source_ok = False
        else:
            source_ok = check(validate_policy_document, req.custom_policy) is not None
    elif req.custom_policy is not None:
        problems.append(
            ValidationError("policy", f"A custom policy is only used with custom access, not {access.value}.")
        )
        source_ok = False
    extra_statements = tuple(req.extra_statements or ())
    for index, statement in enumerate(extra_statements):
        if check(validate_statement, statement, f"Extra statement {index + 1}") is None:
            source_ok = False

    shaped = dataclasses.replace(
        req,
        buckets=tuple(valid_buckets),
        access=access,
        kind=kind,
        prefix_mode=prefix_mode,
        prefix=prefix or "",
        prefixes=all_prefixes if all_prefixes and len(all_prefixes) > 1 else (),
        keys=tuple(dict.fromkeys(valid_keys)),
        extra_statements=extra_statements,
    )
    policy = (
        policies.policy_for_request(shaped) if buckets_ok and prefix is not None and keys_ok and listing_ok and source_ok else None
    )

    limit, limit_name = policies.policy_limit(kind)
    size = policies.policy_size(policy) if policy is not None else 0
    if policy is not None:
        try:
            policies.check_policy_size(policy, limit, limit_name)
        except PolicyTooLarge as exc:
            problems.append(ValidationError("policy", exc.message))

    request = req if problems else _with_defaults(shaped)
    return Draft(request, tuple(problems), policy, size, limit, limit_name)


def _with_defaults(req: CredentialRequest) -> CredentialRequest:
    """A duration for temporary kinds, a user name for permanent keys."""
    if req.kind.temporary:
        limits = duration_range(req.kind)
        seconds = DEFAULT_DURATION_SECONDS if req.duration_seconds is None else parse_duration(req.duration_seconds, limits)
        return dataclasses.replace(req, duration_seconds=seconds)
    if req.username is None:
        return dataclasses.replace(req, username=default_user_name(req.buckets, req.access))
    return req


def validate_request(req: CredentialRequest) -> CredentialRequest:
    """The normalised request (trimmed bucket names, prefix ending in `/`, a duration for temporary
    kinds, a default user name for permanent keys), or its first problem raised."""
    draft = draft_request(req)
    if draft.problems:
        raise draft.problems[0]
    return draft.request


def request_problems(req: CredentialRequest) -> list[ValidationError]:
    """Every problem with the request, in form order."""
    return list(draft_request(req).problems)
