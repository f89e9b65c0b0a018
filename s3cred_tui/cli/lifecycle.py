"""After a credential is made: `made`, `rotate-key`, `cleanup`, `delete-user` and `list-roles`.

The deciding is the core's (`core.made`, `core.rotation`, `core.cleanup`, `core.deletion`,
`core.inventory`); this module asks the person where a step needs a yes, and prints.

- Questions go to stderr and answers come from stdin, one line each; only `y`/`yes` is a yes,
  and end of input is a no. So `printf 'y\\nn\\n' | s3cred-tui rotate-key USER` is a script, and a
  closed stdin never deletes anything.
- `rotate-key` prints the new key once on stdout (`-f/--format`); every step is reported on
  stderr; exit status 0 when the rotation finished, 1 when it stopped or failed (its last line
  says which keys exist and which work), 130 when interrupted (the same line first).
- `cleanup` prints the reviewed plan and asks before removing (`--yes` skips the question,
  `--dry-run` only prints); Ctrl-C (or SIGTERM, SIGHUP) stops between steps and rolls the
  current item back. Exit status 0 when everything listed went, 1 otherwise.
- `delete-user` removes everything that blocks `DeleteUser` (as the app does); the signed-in
  user is refused. Exit status 0 when every user is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from s3cred_tui.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    progress,
    stdout,
)
from s3cred_tui.cli.output import stream, to_json
from s3cred_tui.core.errors import S3CredError, translate

if TYPE_CHECKING:
    from s3cred_tui.core.made import MadeInventory
    from s3cred_tui.core.session import AwsContext

T = TypeVar("T")
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def ask(question: str) -> bool:
    """One yes/no question on stderr; only `y` or `yes` on stdin is a yes, end of input a no."""
    progress(f"{question} [y/N] ")
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def _say(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        progress(message)


def _run_stoppably(work: Callable[[Callable[[], bool]], T], what: str) -> T:
    """Run `work(is_cancelled)` in a thread: the first stop signal asks it to stop between steps
    (and finish its rollback); a second one ends the process at once."""
    cancel = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work(cancel.is_set)
        except BaseException as exc:  # handed to the main thread, which reports it
            outcome["error"] = exc

    def on_stop(signum: int, frame: Any) -> None:
        if not cancel.is_set():
            cancel.set()
            _say(f"Stopping ({signal.Signals(signum).name}): finishing the current step of {what}, then "
                 "putting back what can be... (again stops at once)")
            return
        _say(f"Stopped at once: {what} may be part-way; run `{PROG} made` to see what is left.")
        os._exit(EXIT_INTERRUPTED)

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for number in STOP_SIGNALS:
            previous[number] = signal.signal(number, on_stop)
    try:
        worker = threading.Thread(target=run, name=what, daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if "error" in outcome:
        raise translate(outcome["error"], what)
    return outcome["value"]


def _identity_and_key(ctx: AwsContext) -> tuple[Any, str | None]:
    from s3cred_tui.core.inventory import whoami

    return whoami(ctx), ctx.caller_access_key_id()


# -- made ------------------------------------------------------------------------------------


def _day(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d") if moment else "-"


def made_lines(made: MadeInventory, now: datetime) -> Iterator[str]:
    """The inventory as text, one line per fact."""
    from s3cred_tui.core.made import describe_reach
    from s3cred_tui.core.stale import stale_word

    yield f"Users ({len(made.users)})"
    for user in made.users:
        stale = stale_word(user.stale)
        yield f"  {user.name}: {describe_reach(user.reach)}" + (f"  [stale: {stale}]" if stale else "")
        for key in user.keys:
            age = (now - key.created).days if key.created else None
            used = f"last used {_day(key.last_used)}" + (f" ({key.last_used_service})" if key.last_used_service else "") \
                if key.last_used else "never used"
            yield f"    key {key.id} {key.status.lower()}, {age if age is not None else '?'} days old, {used}"
        if user.console_access:
            yield "    console password: yes"
        for reason in user.stale.reasons:
            yield f"    ! {reason}"
        for note in user.notes:
            yield f"    note: {note}"
    yield f"Roles ({len(made.roles)})"
    for role in made.roles:
        helper = " (helper role)" if role.is_helper else ""
        yield f"  {role.name}{helper}: {describe_reach(role.reach)}, last used {_day(role.last_used)}"
        for entry in role.trust:
            condition = f" when {', '.join(entry.conditional)} match" if entry.conditional else ""
            verdict = "can assume it" if entry.allowed else "cannot assume it"
            yield f"    {entry.who} {verdict}{condition}"
        if role.only_you is not None:
            yield "    only you can assume it" if role.only_you.ok else \
                f"    not only you: {' '.join(role.only_you.reasons)}"
    yield f"Buckets ({len(made.buckets)})"
    for bucket in made.buckets:
        yield f"  {bucket.name} ({bucket.region or 'region unknown'}), created {_day(bucket.created)}"


def _thresholds() -> Any:
    """The stale thresholds of the person's settings (the defaults, with a warning, when unreadable)."""
    from s3cred_tui.core.errors import ValidationError
    from s3cred_tui.core.settings import load_settings
    from s3cred_tui.core.stale import thresholds_from

    try:
        return thresholds_from(load_settings())
    except ValidationError as exc:
        progress(f"warning: {exc.message} The default stale thresholds are used.")
        return thresholds_from(None)


def _find_made(ctx: AwsContext) -> MadeInventory:
    from s3cred_tui.core.made import find_made

    return find_made(ctx, thresholds=_thresholds())


def cmd_made(ctx: AwsContext, args: argparse.Namespace) -> int:
    made = _find_made(ctx)
    for problem in made.problems:
        progress(f"warning: {problem}")
    if args.json:
        print(to_json(made.to_dict(), indent=2), file=stdout())
    else:
        for line in made_lines(made, datetime.now(timezone.utc)):
            print(line, file=stdout())
    return EXIT_OK


# -- rotate-key ------------------------------------------------------------------------------


def cmd_rotate_key(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.credentials import FORMATS
    from s3cred_tui.core.rotation import (
        STEP_TITLES,
        Rotation,
        RotationEvent,
        RotationStep,
        check_rotation,
    )
    from s3cred_tui.core.validation import validate_user_name

    user = validate_user_name(args.user)
    identity, caller_key = _identity_and_key(ctx)
    check = check_rotation(ctx, user, args.key_id, identity=identity, caller_key_id=caller_key)
    if not check.ok:
        raise S3CredError(check.blocker or "The rotation cannot start.", code="RotationBlocked")
    for note in check.notes:
        progress(f"note: {note}")

    def report(event: RotationEvent) -> None:
        _say(f"[{event.step}] {event.status}: {STEP_TITLES[event.step]} - {event.message}")

    rotation = Rotation(ctx.for_apply(), check, on_event=report, identity=identity, caller_key_id=caller_key)
    try:
        if rotation.next_step is RotationStep.CREATE:
            credentials = rotation.create_new_key()
            print(FORMATS[args.format](credentials).rstrip("\n"), file=stdout())
            sys.stdout.flush()
            rotation.mark_shown()
            rotation.probe_new_key()
        old = rotation.old_key_id
        in_place = ask(
            f"Is {rotation.new_key_id} in place everywhere {old} was used? Deactivate {old} now "
            "(anything still using it stops working; it can be reactivated)?"
        )
        rotation.deactivate_old(in_place)
        if rotation.next_step is not None:
            rotation.finish(delete=ask(f"Delete {old} for good? (no leaves it inactive)"))
    except KeyboardInterrupt:
        rotation.stop("Interrupted")
        _say(rotation.summary())
        return EXIT_INTERRUPTED
    except S3CredError:
        _say(rotation.summary())
        raise
    _say(rotation.summary())
    return EXIT_OK if rotation.finished else EXIT_FAILED


# -- cleanup ---------------------------------------------------------------------------------


def cmd_cleanup(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.cleanup import apply_cleanup, plan_cleanup

    made = _find_made(ctx)
    for problem in made.problems:
        progress(f"warning: {problem}")
    identity, caller_key = made.identity, ctx.caller_access_key_id()
    plan = plan_cleanup(ctx, made, names=args.names or None, identity=identity, caller_key_id=caller_key)
    if args.names:
        known = {f"{item.kind} {item.name}" for item in (*plan.items, *plan.refused)}
        plain = {item.name for item in (*plan.items, *plan.refused)}
        missing = [n for n in args.names if n not in known and n not in plain]
        if missing:
            raise S3CredError(f"Not made by s3cred-tui (or not found): {', '.join(missing)}.", code="NotFound")
    if args.json and args.dry_run:
        print(to_json(plan.to_dict(), indent=2), file=stdout())
    else:
        print(plan.describe(), file=stdout())
    if args.dry_run or plan.is_empty:
        return EXIT_OK
    count = len(plan.items)
    if not args.yes and not ask(f"Remove these {count} item{'s' if count != 1 else ''}?"):
        progress("Nothing was removed.")
        return EXIT_FAILED
    total = len(plan.steps)

    def line(event: Any) -> None:
        text = f"[{event.index + 1}/{total}] {event.status}: {event.title}"
        _say(f"{text} - {event.message}" if event.message else text)

    result = _run_stoppably(lambda cancelled: apply_cleanup(ctx.for_apply(), plan, line, cancelled), "the cleanup")
    if args.json:
        print(to_json(result.to_dict(), indent=2), file=stdout())
    _say(result.summary())
    if result.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_FAILED


# -- delete-user -----------------------------------------------------------------------------


def cmd_delete_user(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.deletion import (
        read_user_deletion,
        run_user_deletion,
        self_deletion_refusal,
    )
    from s3cred_tui.core.validation import validate_user_name

    names = [validate_user_name(name) for name in args.users]
    identity, caller_key = _identity_and_key(ctx)
    failed = False
    for name in names:
        print(f"User: {name}", file=stdout())
        refusal = self_deletion_refusal(identity, name, caller_key)
        if refusal is not None:
            progress(f"error: {refusal}")
            failed = True
            continue
        try:
            deletion = read_user_deletion(ctx, name)
        except S3CredError as exc:
            progress(f"error: {exc.message}")
            failed = True
            continue
        for operation in deletion.unsupported:
            progress(f"note: {operation} is not supported by this endpoint; counted as nothing to remove")

        def line(event: Any) -> None:
            if event.status == "done":
                print(f"  {event.title}" + (f" ({event.message})" if event.message else ""), file=stdout())

        result = _run_stoppably(
            lambda cancelled, reviewed=deletion: run_user_deletion(ctx.for_apply(), reviewed, line, cancelled),
            f"deleting {name}",
        )
        if not result.ok:
            progress(f"error: {result.summary()}")
            if result.cancelled:
                return EXIT_INTERRUPTED
            failed = True
    return EXIT_FAILED if failed else EXIT_OK


# -- list-roles ------------------------------------------------------------------------------

ROLE_FIELDS = ("Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument", "Description",
               "MaxSessionDuration")
ROLE_DETAIL_FIELDS = ("inline_policies", "attached_policies")


def cmd_list_roles(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.inventory import (
        IAM_MAX_PAGE,
        iter_role_records,
        role_policy_records,
    )
    from s3cred_tui.core.validation import validate_role_name

    names = [validate_role_name(name) for name in args.roles]

    def named_pages() -> Iterator[list[dict[str, Any]]]:
        records = []
        for name in names:
            try:
                records.append(ctx.iam.get_role(RoleName=name)["Role"])
            except Exception as exc:
                raise translate(exc, "iam:GetRole") from None
        yield records

    pages = named_pages() if names else iter_role_records(ctx, page_size=args.page_size or IAM_MAX_PAGE)

    def with_details() -> Iterator[list[dict[str, Any]]]:
        details = role_policy_records(ctx, names or None)
        for page in pages:
            yield [{**record, **details.get(record["RoleName"], {"inline_policies": [], "attached_policies": []})}
                   for record in page]

    fields = ROLE_FIELDS + (ROLE_DETAIL_FIELDS if args.details else ())
    return stream(args, with_details() if args.details else pages, fields)
