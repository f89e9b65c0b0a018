"""A key made by a PERMANENT plan can do what its level allows under its prefix, and nothing else.

moto enforces identity policies on object operations (not Condition blocks), so the
ListBucket prefix condition is left to the simulator tests; listing is only asserted
here for whole-bucket grants, where no condition is involved.
"""

from __future__ import annotations

import botocore.exceptions
import pytest
from moto import mock_aws
from moto.core import enable_iam_authentication

from s3cred_tui.core.apply import apply_plan
from s3cred_tui.core.errors import AccessDenied, translate
from s3cred_tui.core.inventory import Identity
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import AccessLevel, CredentialRequest
from s3cred_tui.core.session import AwsContext, SessionConfig

BUCKET = "data-lake"
OTHER_BUCKET = "other-bucket"
KEYS = ("reports/a.txt", "reports-private/x", "other/x", "top.txt")
LEVELS = (AccessLevel.READ_ONLY, AccessLevel.WRITE_ONLY, AccessLevel.READ_WRITE)
PREFIXES = ("", "reports/")
IDENTITY = Identity(
    account="123456789012",
    arn="arn:aws:iam::123456789012:user/admin",
    user_id="AIDAEXAMPLE",
    principal_type="user",
    name="admin",
)


def _context(**keys) -> AwsContext:
    return AwsContext(SessionConfig(region="us-east-1", **keys))


@pytest.fixture(scope="module")
def made_keys():
    """One mocked account; a key per (level, prefix), all made by applying real plans."""
    with mock_aws():
        admin = _context(access_key_id="testing", secret_access_key="testing")
        for bucket in (BUCKET, OTHER_BUCKET):
            admin.s3.create_bucket(Bucket=bucket)
            for key in KEYS:
                admin.s3.put_object(Bucket=bucket, Key=key, Body=b"data")
        keys = {}
        for level in LEVELS:
            for prefix in PREFIXES:
                name = f"scope-{level.value}-{'prefix' if prefix else 'bucket'}"
                request = CredentialRequest(buckets=(BUCKET,), access=level, prefix=prefix, username=name)
                plan = build_plan(admin, request, identity=IDENTITY)
                assert plan.ok, plan.blockers
                result = apply_plan(admin, plan)
                assert result.ok, result.error
                creds = result.credentials
                keys[(level, prefix)] = _context(
                    access_key_id=creds.access_key_id, secret_access_key=creds.secret_access_key
                )
        yield keys


def _allowed(call, **kwargs) -> bool:
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as exc:
        error = translate(exc)
        assert isinstance(error, AccessDenied), f"expected AccessDenied, got {error!r}"
        return False
    return True


CASES = [(level, prefix) for level in LEVELS for prefix in PREFIXES]
IDS = [f"{level.value}-{'prefix' if prefix else 'whole-bucket'}" for level, prefix in CASES]


@pytest.mark.parametrize(("level", "prefix"), CASES, ids=IDS)
def test_level_allows_its_operations_inside_the_scope(made_keys, level, prefix):
    s3 = made_keys[(level, prefix)].s3
    key = f"{prefix}a.txt" if prefix else "top.txt"
    with enable_iam_authentication():
        assert _allowed(s3.get_object, Bucket=BUCKET, Key=key) is level.can_read
        assert _allowed(s3.put_object, Bucket=BUCKET, Key=f"{prefix}new.txt", Body=b"x") is level.can_write
        assert _allowed(s3.delete_object, Bucket=BUCKET, Key=f"{prefix}new.txt") is level.can_delete


@pytest.mark.parametrize("level", LEVELS, ids=[level.value for level in LEVELS])
def test_prefix_key_cannot_touch_siblings_or_other_prefixes(made_keys, level):
    s3 = made_keys[(level, "reports/")].s3
    with enable_iam_authentication():
        for outside in ("reports-private/x", "other/x", "top.txt"):
            assert not _allowed(s3.get_object, Bucket=BUCKET, Key=outside)
            assert not _allowed(s3.put_object, Bucket=BUCKET, Key=outside, Body=b"x")
            assert not _allowed(s3.delete_object, Bucket=BUCKET, Key=outside)


@pytest.mark.parametrize(("level", "prefix"), CASES, ids=IDS)
def test_no_access_to_another_bucket(made_keys, level, prefix):
    s3 = made_keys[(level, prefix)].s3
    with enable_iam_authentication():
        assert not _allowed(s3.get_object, Bucket=OTHER_BUCKET, Key="reports/a.txt")
        assert not _allowed(s3.put_object, Bucket=OTHER_BUCKET, Key="reports/new.txt", Body=b"x")
        assert not _allowed(s3.delete_object, Bucket=OTHER_BUCKET, Key="reports/a.txt")
        assert not _allowed(s3.list_objects_v2, Bucket=OTHER_BUCKET)


@pytest.mark.parametrize("level", LEVELS, ids=[level.value for level in LEVELS])
def test_whole_bucket_listing_follows_the_level(made_keys, level):
    s3 = made_keys[(level, "")].s3
    with enable_iam_authentication():
        assert _allowed(s3.list_objects_v2, Bucket=BUCKET) is level.can_read


def test_new_keys_cannot_call_iam(made_keys):
    iam = made_keys[(AccessLevel.READ_WRITE, "")].iam
    with enable_iam_authentication():
        assert not _allowed(iam.list_users)
        assert not _allowed(iam.create_user, UserName="escalation")
