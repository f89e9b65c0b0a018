"""What a user's policies are about, for prefilling questions about that user. Pure: no AWS call.

- `suggested_target(documents, known_buckets)`: the bucket and prefix the policies are most
  plainly about (the user screen's simulator and "Probe a key…" start there).
- `expected_access(policies, bucket, prefix, boundary=…, principal_arn=…)`: the access level
  the policies give there, for the live probe to compare against.
- `probe_expectation(...)`: both at once, as "Probe a key…" needs them.
- `policy_expectation(policies, boundary=…, principal_arn=…)`: the probe's expected answer for
  each exact request, from the user's real policies through the evaluator (an access level is
  only a summary: PutObject + ListBucket is neither "read only" nor "write only").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.inventory import document_references_bucket
from s3cred_tui.core.policies import as_list
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.simulate import RequestContext, evaluate, s3_capabilities

if TYPE_CHECKING:  # the probe talks to AWS; this module stays pure
    from s3cred_tui.core.probe import Expectation

S3_ARN = re.compile(r"^arn:aws[\w-]*:s3:::([^/]+)(?:/(.*))?$")
WILDCARDS = ("*", "?", "${")

NamedPolicy = tuple[str, Mapping[str, Any]]


def _literal_prefix(path: str) -> str:
    """`reports/2024/*` -> `reports/2024/`: the folder part before any wildcard."""
    cut = min((i for i in (path.find(w) for w in WILDCARDS) if i >= 0), default=len(path))
    literal = path[:cut]
    return literal[: literal.rfind("/") + 1]


def suggested_target(documents: Iterable[Mapping[str, Any]], known_buckets: Iterable[str] = ()) -> tuple[str, str]:
    """The bucket and prefix a user's policies are most plainly about, to prefill questions.

    The first bucket named literally in an Allow statement wins, with the folder of its first
    object resource; policies that only use wildcards (`*`) fall back to the first known
    bucket they reach. ("", "") when nothing points anywhere.
    """
    documents = list(documents)
    bucket = ""
    prefix: str | None = None
    for document in documents:
        for statement in as_list(document.get("Statement")):
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            for resource in as_list(statement.get("Resource")):
                match = S3_ARN.match(str(resource))
                if match is None or any(w in match.group(1) for w in WILDCARDS):
                    continue
                name, path = match.group(1), match.group(2)
                if not bucket:
                    bucket = name
                if name == bucket and path is not None and prefix is None:
                    prefix = _literal_prefix(path)
    if bucket:
        return bucket, prefix or ""
    for name in known_buckets:
        if any(document_references_bucket(doc, name) for doc in documents):
            return name, ""
    return "", ""


def expected_access(
    policies: Iterable[NamedPolicy],
    bucket: str,
    prefix: str,
    *,
    boundary: NamedPolicy | None = None,
    principal_arn: str | None = None,
) -> AccessLevel:
    """The access level the policies give at bucket/prefix, for the probe to compare against.

    Read only when there is no bucket or the policies cannot be evaluated: the probe then
    expects the least, so any write it observes shows up as a difference.
    """
    if not bucket:
        return AccessLevel.READ_ONLY
    try:
        decisions = s3_capabilities(list(policies), bucket, prefix, boundary=boundary, principal_arn=principal_arn)
    except S3CredError:
        return AccessLevel.READ_ONLY
    can_read, can_write = decisions["read"].allowed, decisions["write"].allowed
    if can_read and can_write:
        return AccessLevel.READ_WRITE
    return AccessLevel.WRITE_ONLY if can_write else AccessLevel.READ_ONLY


@dataclass(frozen=True)
class ProbeExpectation:
    """Where a probe of the user's key should look, and what it should find there."""

    bucket: str
    prefix: str
    access: AccessLevel

    @property
    def buckets(self) -> list[str]:
        return [self.bucket] if self.bucket else []


def probe_expectation(
    policies: Iterable[NamedPolicy],
    known_buckets: Iterable[str] = (),
    *,
    boundary: NamedPolicy | None = None,
    principal_arn: str | None = None,
) -> ProbeExpectation:
    """The suggested target of the policies and the access they give there."""
    policies = list(policies)
    bucket, prefix = suggested_target((document for _, document in policies), known_buckets)
    access = expected_access(policies, bucket, prefix, boundary=boundary, principal_arn=principal_arn)
    return ProbeExpectation(bucket, prefix, access)


def policy_expectation(
    policies: Iterable[NamedPolicy],
    *,
    boundary: NamedPolicy | None = None,
    principal_arn: str | None = None,
) -> Expectation:
    """Would these policies (capped by `boundary`) allow a request? For the probe's expected column.

    A policy the evaluator cannot read allows nothing here, so anything the key does get
    through shows up as a difference.
    """
    policies = list(policies)

    def expect(action: str, resource: str, context: Mapping[str, str]) -> bool:
        request = RequestContext(action, resource, dict(context), principal_arn)
        try:
            return evaluate(request, policies, boundary=boundary).allowed
        except S3CredError:
            return False

    return expect
