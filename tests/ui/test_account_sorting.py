"""Sorting the account's lists (issue 12): `S` picks the next column, `I` inverts, a click on a
header sorts by it; by each cell's real value, stable, and still in order while rows stream in
and under a filter."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from textual.app import App, ComposeResult

from s3cred_tui.ui.widgets.filter_table import FilterTable, Sortable
from tests.ui.helpers import make_app, settle, wait_until

SIZE = (140, 42)
COLUMNS = [("name", "User"), ("age", "Oldest key"), ("keys", "Keys")]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield FilterTable("user", COLUMNS, window_rows=50)


def table_order(listing: FilterTable) -> list[str]:
    """Row keys in the order the DataTable shows them."""
    table = listing.table
    return [table.coordinate_to_cell_key((row, 0)).row_key.value for row in range(table.row_count)]


def row(name: str, age_days: float | None, shown: str, keys: str) -> tuple[str, list]:
    return name, [name, Sortable(shown, None if age_days is None else age_days * 86400), keys]


async def test_sorting_by_a_column_uses_real_values_is_stable_and_inverts():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        listing = app.query_one(FilterTable)
        listing.add_rows(
            [
                row("ann", 10, "10 days", "2"),
                row("bob", 9, "9 days", "10"),
                row("cid", None, "—", "…"),
                row("dan", 400, "400 days", "2"),
            ]
        )
        await settle(pilot)
        listing.focus_table()

        await pilot.press("S", "S")  # name, then the key ages
        await settle(pilot)
        assert listing.sort_column == "age"
        # By age in days, not by the text ("10 days" < "400 days" < "9 days"); no value last.
        assert table_order(listing) == ["bob", "ann", "dan", "cid"]

        await pilot.press("I")
        await settle(pilot)
        assert table_order(listing) == ["dan", "ann", "bob", "cid"], "inverted; still no value last"

        await pilot.press("S")  # keys: numbers as numbers, equal ones in list order
        await settle(pilot)
        assert listing.sort_column == "keys" and not listing.sort_reverse
        assert table_order(listing) == ["ann", "dan", "bob", "cid"]

        await pilot.press("S")  # past the last column: as listed again
        await settle(pilot)
        assert listing.sort_column is None
        assert table_order(listing) == ["ann", "bob", "cid", "dan"]


async def test_a_click_on_a_header_sorts_by_it_and_a_second_click_inverts():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        listing = app.query_one(FilterTable)
        listing.add_rows([row("ann", 1, "1 day", "2"), row("bob", 2, "2 days", "0"), row("cid", 3, "3 days", "1")])
        await settle(pilot)
        table = listing.table
        keys_x = sum(column.get_render_width(table) for column in list(table.columns.values())[:2]) + 1
        await pilot.click(table, offset=(keys_x, 0))
        await settle(pilot)
        assert listing.sort_column == "keys"
        assert table_order(listing) == ["bob", "cid", "ann"]
        assert "▲" in str(table.columns[next(k for k in table.columns if k.value == "keys")].label)
        await pilot.click(table, offset=(keys_x, 0))
        await settle(pilot)
        assert table_order(listing) == ["ann", "cid", "bob"]


async def test_rows_streaming_in_and_cells_filling_in_keep_the_order_under_a_filter():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        listing = app.query_one(FilterTable)
        listing.add_rows([row(f"user-{i:03d}", None, "…", "…") for i in range(0, 100, 2)])
        await settle(pilot)
        listing.sort_by("keys", reverse=True)
        listing.set_filter("user-04")
        await settle(pilot, rounds=10)

        # More rows arrive while sorted and filtered, and counts fill in afterwards.
        listing.add_rows([row(f"user-{i:03d}", None, "…", "…") for i in range(1, 100, 2)])
        listing.update_cells({f"user-{i:03d}": {"keys": str(i % 7)} for i in range(100)})
        matching = [key for key in listing.keys if key.startswith("user-04")]
        # Most keys first; equal counts in the order listed (evens came first, then odds).
        expected = sorted(matching, key=lambda key: -int(listing.row(key)[2]))
        assert expected[:2] == ["user-048", "user-041"]
        await wait_until(pilot, lambda: table_order(listing) == expected, "the rows in the new order")
        assert listing.shown == 10


@pytest.fixture
def users_with_policies():
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        document = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}'
        for name, policies in (("alpha", 2), ("bravo", 10), ("charlie", 0)):
            iam.create_user(UserName=name)
            for index in range(policies):
                iam.put_user_policy(UserName=name, PolicyName=f"p{index}", PolicyDocument=document)
        yield


async def test_the_users_tab_sorts_by_policy_count_as_a_number(users_with_policies):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.account_screen()
        await pilot.press("2")
        await wait_until(pilot, lambda: screen.users.row("bravo")[3] != "…", "the policy counts")
        for _ in range(4):  # User, Created, Keys, Policies
            await pilot.press("S")
        await settle(pilot)
        assert screen.users.sort_column == "policies"
        # "10 (10 inline)" sorts as 10, above "2 (2 inline)".
        assert table_order(screen.users) == ["charlie", "alpha", "bravo"]
        assert "sorted by Policies" in str(screen.users.query_one(".filter-status").render())
