"""The create form beyond one prefix for a key of this account (issues 12 and 15), driven with Pilot:
who will use the access (another account by bucket policy or by a role with an ExternalId), several
prefixes, exact keys, the KMS explanation on the review, a custom policy loaded from a file, the
region for new buckets, duration limits per method, and what the loaded lists already say.

Runs the real app against moto in-process (`mock_aws`). The grant's review belongs to the app
(`open_grant_review`); here it is replaced by a recorder, so the form's request is checked field
by field.
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from moto.moto_api._internal import mock_random
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from s3cred_tui.core.bucket_grant import BucketGrantRequest
from s3cred_tui.core.draft import draft_request
from s3cred_tui.core.inventory import Identity
from s3cred_tui.core.request import (
    AccessLevel,
    CredentialKind,
    CredentialRequest,
    PrefixMode,
)
from s3cred_tui.core.third_party_role import ThirdPartyRoleRequest
from s3cred_tui.core.validation import duration_range, parse_duration
from s3cred_tui.ui.screens.create import (
    Audience,
    CreateScreen,
    FormState,
    Scope,
    evaluate_form,
    split_keys,
)
from s3cred_tui.ui.screens.review import ReviewScreen
from s3cred_tui.ui.widgets.policy_preview import PolicyPreview
from s3cred_tui.ui.widgets.simulate_panel import SimulatePanel
from tests.ui.helpers import make_app, settle, wait_until

BUCKET = "alpha-bucket"
OTHER_BUCKET = "beta-bucket"
OTHER_ACCOUNT = "210987654321"
SIZE = (100, 40)


@pytest.fixture
def account():
    with mock_aws():
        mock_random.seed(7)
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in (BUCKET, OTHER_BUCKET):
            s3.create_bucket(Bucket=bucket)
        yield boto3.client("iam", region_name="us-east-1")


@pytest.fixture
def reviews(monkeypatch):
    """What the form handed to the app's two reviews, instead of opening them."""
    seen: dict[str, list] = {"key": [], "grant": []}
    app_type = type(make_app())
    monkeypatch.setattr(app_type, "open_review", lambda self, request: seen["key"].append(request))
    monkeypatch.setattr(app_type, "open_grant_review", lambda self, request: seen["grant"].append(request), raising=False)
    return seen


async def open_form(pilot, buckets=(BUCKET,)) -> CreateScreen:
    await settle(pilot)
    await pilot.app.push_screen(CreateScreen(buckets=list(buckets)))
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, CreateScreen)
    return screen


async def choose(pilot, screen, radio_id: str) -> None:
    """Press a radio button as a person would (scrolled into view first: the form scrolls)."""
    button = screen.query_one(f"#{radio_id}")
    screen.query_one("#create-form").scroll_to_widget(button, animate=False)
    await pilot.pause()
    await pilot.click(f"#{radio_id}")
    await pilot.pause()


async def type_into(pilot, screen, selector: str, value: str) -> None:
    screen.query_one(selector, Input).value = value
    await pilot.pause()


def shown(screen, selector: str) -> bool:
    """Displayed, and not inside a hidden container."""
    node = screen.query_one(selector)
    while node is not None and node is not screen:
        if node.has_class("hidden") or not node.display:
            return False
        node = node.parent
    return True


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


# -- pure evaluation ---------------------------------------------------------------------


def test_keys_are_one_per_line_kept_exactly():
    assert split_keys("a b.csv\n\nx,y.csv\n  \na b.csv") == ("a b.csv", "x,y.csv")


def test_several_prefixes_and_exact_keys_reach_the_request_and_policy():
    outcome = evaluate_form(FormState(buckets_text=BUCKET, prefix="a, b", extra_prefixes=("c d", "")))
    assert outcome.ok
    assert outcome.draft.request.all_prefixes == ("a, b/", "c d/")
    assert f"arn:aws:s3:::{BUCKET}/a, b/*" in outcome.policy_text
    assert f"arn:aws:s3:::{BUCKET}/c d/*" in outcome.policy_text

    keys = evaluate_form(
        FormState(buckets_text=BUCKET, scope=Scope.KEYS, keys_text="r/2024.csv\nr/what?.csv", list_keys=True, prefix="ignored")
    )
    assert keys.ok
    assert keys.draft.request.keys == ("r/2024.csv", "r/what?.csv")
    assert keys.draft.request.list_keys and keys.draft.request.all_prefixes == ()
    assert f"arn:aws:s3:::{BUCKET}/r/what${{?}}.csv" in keys.policy_text  # a literal ? in a key name is escaped

    no_keys = evaluate_form(FormState(buckets_text=BUCKET, scope=Scope.KEYS, list_keys=True))
    assert [p.field for p in no_keys.problems] == ["keys"]


def test_a_grant_needs_a_principal_and_its_request_carries_the_scope():
    missing = evaluate_form(FormState(buckets_text=BUCKET, audience=Audience.BUCKET_POLICY))
    assert [p.field for p in missing.problems] == ["grant"] and missing.grant is None

    grant = evaluate_form(
        FormState(
            buckets_text=f"{BUCKET} {OTHER_BUCKET}",
            audience=Audience.BUCKET_POLICY,
            grant_principal=f" {OTHER_ACCOUNT} ",
            access=AccessLevel.READ_WRITE,
            prefix="in",
            extra_prefixes=("out",),
            kind=CredentialKind.FEDERATION_TOKEN,  # hidden for a grant: never counts
            duration_text="nonsense",
        )
    )
    assert grant.ok
    assert grant.grant == BucketGrantRequest(
        (BUCKET, OTHER_BUCKET), OTHER_ACCOUNT, AccessLevel.READ_WRITE, ("in/", "out/"), (), PrefixMode.PLAIN
    )
    statements = json.loads(grant.policy_text)["Statement"]
    assert {s["Principal"]["AWS"] for s in statements} == {f"arn:aws:iam::{OTHER_ACCOUNT}:root"}
    assert grant.policy_limit == 20 * 1024

    custom = evaluate_form(
        FormState(buckets_text=BUCKET, audience=Audience.ROLE, grant_principal=OTHER_ACCOUNT, access=AccessLevel.CUSTOM)
    )
    assert "access" in {p.field for p in custom.problems} and custom.grant is None


def test_a_role_grant_checks_its_role_name_and_external_id():
    bad = evaluate_form(
        FormState(
            buckets_text=BUCKET,
            audience=Audience.ROLE,
            grant_principal="arn:aws:iam::210987654321:role/backup",
            grant_role_name="bad name!",
            external_id="x",
        )
    )
    assert {p.field for p in bad.problems} == {"role", "external-id"}
    good = evaluate_form(
        FormState(
            buckets_text=BUCKET,
            audience=Audience.ROLE,
            grant_principal="arn:aws:iam::210987654321:role/backup",
            scope=Scope.KEYS,
            keys_text="db/dump.sql",
            list_keys=True,  # not offered for grants: ignored
        )
    )
    assert good.ok
    assert good.grant == ThirdPartyRoleRequest(
        (BUCKET,), "arn:aws:iam::210987654321:role/backup", AccessLevel.READ_ONLY, (), ("db/dump.sql",), PrefixMode.PLAIN, None, None
    )
    assert good.policy_limit_label == "role inline policy"


def test_duration_limits_follow_the_method_and_the_caller():
    def problems(kind, duration, caller=None):
        form = FormState(buckets_text=BUCKET, kind=kind, duration_text=duration, caller_type=caller)
        return [p.message for p in evaluate_form(form).problems]

    assert problems(CredentialKind.FEDERATION_TOKEN, "36h") == []
    assert "36 hours" in problems(CredentialKind.FEDERATION_TOKEN, "37h")[0]
    assert "12 hours" in problems(CredentialKind.ASSUME_ROLE, "13h")[0]
    assert problems(CredentialKind.ASSUME_ROLE, "1h", "assumed-role") == []
    (chained,) = problems(CredentialKind.ASSUME_ROLE, "2h", "assumed-role")
    assert "role chaining at 1 hour" in chained and "assumed role" in chained
    (root,) = problems(CredentialKind.FEDERATION_TOKEN, "2h", "root")
    assert "root user" in root


def test_loaded_lists_warn_without_blocking():
    taken = f"s3.read-only.{BUCKET}"
    form = FormState(buckets_text=f"{BUCKET} missing-bucket", known_users=frozenset({taken}), known_buckets=frozenset({BUCKET}))
    outcome = evaluate_form(form)
    assert outcome.ok  # the review still decides; a list can be a moment old
    messages = {w.field: w.message for w in outcome.warnings}
    assert "missing-bucket does not exist" in messages["buckets"] and "Create buckets" in messages["buckets"]
    # The default name of one bucket's key is taken.
    (user_warning,) = evaluate_form(FormState(buckets_text=BUCKET, known_users=frozenset({taken}))).warnings
    assert user_warning.field == "username" and taken in user_warning.message and "Reuse" in user_warning.message

    assert evaluate_form(FormState(buckets_text="missing-bucket", create_buckets=True, known_buckets=frozenset())).warnings == ()
    reused = FormState(buckets_text=BUCKET, reuse_existing_user=True, known_users=frozenset({taken}))
    assert evaluate_form(reused).warnings == ()
    unknown = FormState(buckets_text="missing-bucket", username=taken)  # lists not loaded: say nothing
    assert evaluate_form(unknown).warnings == ()


# -- the form ----------------------------------------------------------------------------


async def test_bucket_policy_grant_hides_key_fields_and_goes_to_the_grant_review(account, reviews):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        assert not shown(screen, "#grant-options")
        await choose(pilot, screen, "audience-bucket-policy")
        for hidden in ("#kind", "#username", "#duration", "#boundary", "#create-buckets", "#role-options", "#list-keys"):
            assert not shown(screen, hidden), hidden
        assert shown(screen, "#grant-principal")
        assert "Name the other account" in text(screen, "#error-grant")
        assert screen.query_one("#review", Button).disabled

        await type_into(pilot, screen, "#grant-principal", "not-an-account")
        assert screen.query_one("#grant-principal").has_class("-invalid")
        await type_into(pilot, screen, "#grant-principal", OTHER_ACCOUNT)
        await type_into(pilot, screen, "#prefix", "exports")
        assert f'"arn:aws:iam::{OTHER_ACCOUNT}:root"' in screen.query_one(PolicyPreview).policy_text
        simulation = screen.query_one(SimulatePanel).ask("read", BUCKET, "exports/a.csv")
        assert simulation is not None and simulation.decision is not None and simulation.decision.allowed
        elsewhere = screen.query_one(SimulatePanel).ask("read", BUCKET, "elsewhere/a.csv")
        assert elsewhere is not None and elsewhere.decision is not None and not elsewhere.decision.allowed

        await pilot.press("ctrl+r")
        await pilot.pause()
        assert reviews["key"] == []
        (request,) = reviews["grant"]
        assert request == BucketGrantRequest((BUCKET,), OTHER_ACCOUNT, AccessLevel.READ_ONLY, ("exports/",), (), PrefixMode.PLAIN)


async def test_role_grant_with_exact_keys_and_its_optional_fields(account, reviews):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await choose(pilot, screen, "audience-role")
        assert shown(screen, "#grant-role-name") and shown(screen, "#external-id")
        await type_into(pilot, screen, "#grant-principal", "arn:aws:iam::210987654321:role/ci")
        await type_into(pilot, screen, "#external-id", "x")
        assert "external id" in text(screen, "#error-external-id")
        await type_into(pilot, screen, "#external-id", "")
        await type_into(pilot, screen, "#grant-role-name", "ci-reader")
        await choose(pilot, screen, "scope-keys")
        assert not shown(screen, "#prefix") and shown(screen, "#keys")
        assert not shown(screen, "#list-keys")  # a grant has no listing of exact keys
        screen.query_one("#keys", TextArea).load_text("builds/app 1.zip\nbuilds/app,2.zip\n")
        await pilot.pause()
        assert f"arn:aws:s3:::{BUCKET}/builds/app,2.zip" in screen.query_one(PolicyPreview).policy_text

        await pilot.press("ctrl+r")
        await pilot.pause()
        (request,) = reviews["grant"]
        assert isinstance(request, ThirdPartyRoleRequest)
        assert request.principal == "arn:aws:iam::210987654321:role/ci"
        assert request.keys == ("builds/app 1.zip", "builds/app,2.zip") and request.prefixes == ()
        assert request.role_name == "ci-reader" and request.external_id is None  # blank: generated by the core


async def test_extra_prefix_rows_and_exact_keys_for_a_key_of_this_account(account, reviews):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await type_into(pilot, screen, "#prefix", "daily, reports")
        screen.query_one("#create-form").scroll_to_widget(screen.query_one("#add-prefix"), animate=False)
        await pilot.pause()
        await pilot.click("#add-prefix")
        await pilot.pause()
        extra = screen.query_one("#prefix-2", Input)
        assert extra.has_focus
        await pilot.press(*"weekly stats")
        await pilot.pause()
        preview = screen.query_one(PolicyPreview).policy_text
        assert f"arn:aws:s3:::{BUCKET}/daily, reports/*" in preview and f"arn:aws:s3:::{BUCKET}/weekly stats/*" in preview

        await pilot.click("#add-prefix")
        await pilot.pause()
        await pilot.press(*"/bad")
        await pilot.pause()
        assert text(screen, "#error-prefix") and screen.query_one("#review", Button).disabled
        screen.query_one("#create-form").scroll_to_widget(screen.query_one("#remove-prefix-3"), animate=False)
        await pilot.pause()
        await pilot.click("#remove-prefix-3")
        await settle(pilot)
        assert not screen.query("#prefix-3") and not screen.query_one("#review", Button).disabled

        await pilot.press("ctrl+r")
        await pilot.pause()
        (request,) = reviews["key"]
        assert request.all_prefixes == ("daily, reports/", "weekly stats/")

        await choose(pilot, screen, "scope-keys")
        screen.query_one("#keys", TextArea).load_text("daily, reports/2024.csv")
        screen.query_one("#list-keys", Checkbox).value = True
        await pilot.pause()
        preview = screen.query_one(PolicyPreview).policy_text
        assert "weekly stats" not in preview and "s3:ListBucket" in preview
        await pilot.press("ctrl+r")
        await pilot.pause()
        request = reviews["key"][-1]
        assert request.keys == ("daily, reports/2024.csv",) and request.list_keys and request.all_prefixes == ()


async def test_custom_policy_hides_the_prefix_and_loads_from_a_file(account, reviews, tmp_path):
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/x/*"}]}
    good = tmp_path / "policy.json"
    good.write_text(json.dumps(policy))
    broken = tmp_path / "broken.json"
    broken.write_text('{"Version": ')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await type_into(pilot, screen, "#prefix", "reports")
        await choose(pilot, screen, "access-custom")
        assert not shown(screen, "#prefix") and not shown(screen, "#scope") and shown(screen, "#policy-file")

        async def load(path: str) -> None:
            await type_into(pilot, screen, "#policy-file", path)
            screen.load_policy_file()
            await pilot.pause()

        await load(str(tmp_path / "nope.json"))
        message = text(screen, "#error-policy-file")
        assert message.startswith("Policy file") and "check the path" in message and "\n" not in message
        await load(str(tmp_path))
        assert "is a folder" in text(screen, "#error-policy-file")
        await load(str(broken))
        assert "not valid JSON" in text(screen, "#error-access")
        await load(str(good))
        assert not shown(screen, "#error-policy-file")
        assert f"arn:aws:s3:::{BUCKET}/x/*" in screen.query_one(PolicyPreview).policy_text

        await pilot.press("ctrl+r")
        await pilot.pause()
        (request,) = reviews["key"]
        assert request.custom_policy == policy and request.prefix == ""  # the hidden prefix does not count


async def test_region_for_new_buckets_only_when_creating_them(account, reviews):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, buckets=("brand-new-bucket",))
        assert not shown(screen, "#bucket-region")
        screen.query_one("#create-buckets", Checkbox).value = True
        await pilot.pause()
        assert shown(screen, "#bucket-region")
        assert screen.query_one("#bucket-region", Input).value == "us-east-1"  # the session's region
        await type_into(pilot, screen, "#bucket-region", "Mars")
        assert "region" in text(screen, "#error-region") and screen.query_one("#review", Button).disabled
        await type_into(pilot, screen, "#bucket-region", "eu-west-1")
        await pilot.press("ctrl+r")
        await pilot.pause()
        (request,) = reviews["key"]
        assert request.create_buckets and request.bucket_region == "eu-west-1"


async def test_duration_label_says_the_range_and_why(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await choose(pilot, screen, "kind-federation-token")
        assert "15m to 36h" in str(screen.query_one("#duration-label", Label).content)
        await type_into(pilot, screen, "#duration", "30h")
        assert text(screen, "#error-duration") == ""

        await choose(pilot, screen, "kind-assume-role")
        assert "15m to 12h" in str(screen.query_one("#duration-label", Label).content)
        assert "12 hours" in text(screen, "#error-duration")

        # Signed in with an assumed role: role chaining caps the session, and the form says why.
        app.identity = Identity("123456789012", "arn:aws:sts::123456789012:assumed-role/admin/me", "AROA:me", "assumed-role", "me")
        await pilot.pause()
        assert "15m to 1h" in str(screen.query_one("#duration-label", Label).content)
        assert "role chaining" in text(screen, "#duration-help")
        await type_into(pilot, screen, "#duration", "2h")
        assert "role chaining at 1 hour" in text(screen, "#error-duration")
        assert screen.query_one("#review", Button).disabled


async def test_the_loaded_lists_warn_on_the_form(account):
    account.create_user(UserName=f"s3.read-only.{BUCKET}")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: app.account_screen().loaded_names("users") is not None, "the users list")
        screen = await open_form(pilot, buckets=(BUCKET, "missing-bucket"))
        await type_into(pilot, screen, "#username", f"s3.read-only.{BUCKET}")
        assert "missing-bucket does not exist" in text(screen, "#warning-buckets")
        assert "already exists" in text(screen, "#warning-username")
        assert not screen.query_one("#review", Button).disabled  # the review decides

        screen.query_one("#reuse-user", Checkbox).value = True
        screen.query_one("#create-buckets", Checkbox).value = True
        await pilot.pause()
        assert not shown(screen, "#warning-buckets") and not shown(screen, "#warning-username")


async def test_nothing_is_said_while_the_lists_load(account, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        account_screen = app.account_screen()
        account_screen.users.busy = True  # as while a reload reads the users again
        account_screen.buckets.busy = True
        screen = await open_form(pilot, buckets=("missing-bucket",))
        assert not shown(screen, "#warning-buckets") and not shown(screen, "#warning-username")


async def test_review_explains_the_kms_statements(account):
    kms = boto3.client("kms", region_name="us-east-1")
    key_arn = kms.create_key(Description="bucket key")["KeyMetadata"]["Arn"]
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="sealed-bucket")
    s3.put_bucket_encryption(
        Bucket="sealed-bucket",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]
        },
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(ReviewScreen(CredentialRequest(("sealed-bucket",), AccessLevel.WRITE_ONLY, prefix="in/")))
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen) and review.plan is not None
        explained = str(review.query_one("#review-kms", Static).content)
        assert not review.query_one("#review-kms").has_class("hidden")
        assert f"sealed-bucket: default encryption (SSE-KMS) with key {key_arn}" in explained
        assert "kms:GenerateDataKey" in explained and "kms:*" in explained  # "Never kms:*"
        assert "kms:ViaService = s3.us-east-1.amazonaws.com" in explained
        assert "kms:EncryptionContext:aws:s3:arn = arn:aws:s3:::sealed-bucket/in/*" in explained
        statement = next(s for s in review.plan.policy["Statement"] if s.get("Resource") == key_arn)
        assert statement["Condition"]["StringEquals"]["kms:ViaService"] == "s3.us-east-1.amazonaws.com"

        await pilot.press("escape")
        await pilot.pause()
        await app.push_screen(ReviewScreen(CredentialRequest((BUCKET,), AccessLevel.READ_ONLY)))
        await settle(pilot)
        assert app.screen.query_one("#review-kms").has_class("hidden")  # SSE-S3 needs nothing


def test_duration_range_is_the_one_place_for_the_limits():
    assert duration_range(CredentialKind.FEDERATION_TOKEN).span == "15m to 36h"
    assert duration_range(CredentialKind.ASSUME_ROLE, "assumed-role").span == "15m to 1h"
    assert duration_range(CredentialKind.FEDERATION_TOKEN, "root").longest == "1h"
    assert parse_duration("36h", duration_range(CredentialKind.FEDERATION_TOKEN)) == 129600
    token = CredentialRequest((BUCKET,), kind=CredentialKind.FEDERATION_TOKEN, duration_seconds=129600)
    assert draft_request(token).ok  # the draft allows a federation token its 36 hours
    role = CredentialRequest((BUCKET,), kind=CredentialKind.ASSUME_ROLE, duration_seconds=129600)
    assert [p.field for p in draft_request(role).problems] == ["duration"]
