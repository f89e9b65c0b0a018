"""The bucket tree's lines are edited in place (`PrefixTree`), never rebuilt, and still show what
Textual would: every child in order, after chunked adds, collapses, relistings and "load more…"."""

from __future__ import annotations

import gc
import weakref

import boto3
import pytest
from moto import mock_aws

from s3cred_tui.ui.screens import bucket as bucket_screen
from s3cred_tui.ui.screens.bucket import ADD_CHUNK, BucketScreen, MoreData, ObjectData, PrefixData
from tests.ui.helpers import make_app, settle, wait_until

SIZE = (140, 42)
# More than one chunk, less than one page.
KEYS_PER_DAY = ADD_CHUNK + 157
assert KEYS_PER_DAY < bucket_screen.PREFIX_PAGE_SIZE
# Pages of this size make day-1/ three pages long (for "load more…").
SMALL_PAGE = 150
DAYS = ("day-1", "day-2")


def key(day: str, index: int) -> str:
    return f"{day}/part-{index:04d}.json"


@pytest.fixture
def browsable():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="web-logs")
        for day in DAYS:
            for index in range(KEYS_PER_DAY):
                s3.put_object(Bucket="web-logs", Key=key(day, index), Body=b"{}")
        yield


def loaded(node) -> bool:
    return isinstance(node.data, PrefixData) and node.data.loaded and not node.data.loading


def shown_lines(tree) -> list[tuple[object, bool]]:
    """(node, is last child) for every line Textual's Tree would show: a walk of the expanded nodes."""
    lines: list[tuple[object, bool]] = []

    def walk(node, last: bool) -> None:
        lines.append((node, last))
        if node.is_expanded:
            for index, child in enumerate(node.children):
                walk(child, index == len(node.children) - 1)

    walk(tree.root, True)
    return lines


def assert_lines_match_the_nodes(tree) -> None:
    """The lines kept up to date edit by edit are the ones a rebuild would make, numbered in order."""
    expected = shown_lines(tree)
    lines = tree._tree_lines
    assert [(line.node, line.last) for line in lines] == expected
    assert [line.node.line for line in lines] == list(range(len(lines)))
    assert tree.virtual_size.height == len(lines)


def node_count(tree) -> int:
    def count(node) -> int:
        return 1 + sum(count(child) for child in node.children)

    walked = count(tree.root)
    assert len(tree._tree_nodes) == walked, "the tree's registry holds exactly the nodes attached to it"
    return walked


async def open_web_logs(pilot) -> BucketScreen:
    await settle(pilot)
    pilot.app.account_screen().open_bucket("web-logs")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BucketScreen)
    return screen


async def test_children_added_in_chunks_all_show_in_order(browsable, monkeypatch):
    chunks: list[int] = []
    add_children = bucket_screen.PrefixTree.add_children

    def counting(self, parent, children):
        chunks.append(len(children))
        return add_children(self, parent, children)

    monkeypatch.setattr(bucket_screen.PrefixTree, "add_children", counting)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_web_logs(pilot)
        tree = screen.prefix_tree
        day = tree.root.children[0]
        chunks.clear()
        day.expand()
        await wait_until(pilot, lambda: loaded(day), "day-1/ listed and added")
        assert chunks == [ADD_CHUNK, KEYS_PER_DAY - ADD_CHUNK], "a page is added a chunk at a time"

        keys = [child.data.key for child in day.children]
        assert keys == [key("day-1", index) for index in range(KEYS_PER_DAY)]
        assert all(isinstance(child.data, ObjectData) for child in day.children)
        assert_lines_match_the_nodes(tree)
        # Each key's line sits right under its folder, in listing order, and is painted so.
        first = day.line + 1
        assert [tree.get_node_at_line(first + index).data.key for index in range(KEYS_PER_DAY)] == keys
        assert "part-0000.json" in tree.render_line(first).text
        assert tree.get_node_at_line(first + KEYS_PER_DAY).data.prefix == "day-2/"

        # The last key, scrolled to, is painted at the bottom of its folder.
        tree.move_cursor(day.children[-1])
        await pilot.pause()
        row = day.children[-1].line - tree.scroll_offset.y
        assert f"part-{KEYS_PER_DAY - 1:04d}.json" in tree.render_line(row).text


async def test_collapsing_a_large_subtree_releases_its_children_and_expanding_reloads_them(browsable):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_web_logs(pilot)
        tree = screen.prefix_tree
        day, other_day = tree.root.children
        day.expand()
        other_day.expand()
        await wait_until(pilot, lambda: loaded(day) and loaded(other_day), "both days listed")
        # root, two days, their keys
        assert node_count(tree) == 3 + 2 * KEYS_PER_DAY
        assert_lines_match_the_nodes(tree)
        released = [weakref.ref(child) for child in day.children[:: ADD_CHUNK // 2]]

        day.collapse()
        await settle(pilot)
        assert node_count(tree) == 3 + KEYS_PER_DAY, "day-1/'s keys are gone from the tree"
        assert list(day.children) == []
        assert_lines_match_the_nodes(tree)
        # Freed, not just detached: nothing (no cycle, even out of the collector's reach) keeps them.
        gc.collect()
        assert all(ref() is None for ref in released)
        assert tree.get_node_at_line(day.line + 1) is other_day

        day.expand()
        await wait_until(pilot, lambda: loaded(day), "day-1/ listed again")
        assert node_count(tree) == 3 + 2 * KEYS_PER_DAY
        assert [child.data.key for child in day.children] == [key("day-1", index) for index in range(KEYS_PER_DAY)]
        assert_lines_match_the_nodes(tree)


async def test_collapsing_the_folder_under_the_cursor_keeps_the_cursor_on_the_folder(browsable):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_web_logs(pilot)
        tree = screen.prefix_tree
        day = tree.root.children[0]
        day.expand()
        await wait_until(pilot, lambda: loaded(day), "day-1/ listed")
        tree.move_cursor(day.children[5])
        await pilot.pause()
        day.collapse()
        await settle(pilot)
        assert tree.cursor_node is day
        assert screen.highlighted_prefix() == "day-1/"
        assert_lines_match_the_nodes(tree)


async def test_load_more_replaces_its_line_with_the_next_page(browsable, monkeypatch):
    monkeypatch.setattr(bucket_screen, "PREFIX_PAGE_SIZE", SMALL_PAGE)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_web_logs(pilot)
        tree = screen.prefix_tree
        day, other_day = tree.root.children
        other_day.expand()
        day.expand()
        await wait_until(pilot, lambda: loaded(day) and loaded(other_day), "the first pages")
        more = day.children[-1]
        assert isinstance(more.data, MoreData)
        assert_lines_match_the_nodes(tree)

        tree.select_node(more)
        await wait_until(pilot, lambda: loaded(day) and len(day.children) > SMALL_PAGE + 1, "day-1/'s second page")
        assert more.line == -1 and more not in day.children
        assert [child.data.key for child in day.children[:-1]] == [key("day-1", index) for index in range(2 * SMALL_PAGE)]
        assert isinstance(day.children[-1].data, MoreData), "a third page is still to come"
        assert_lines_match_the_nodes(tree)


async def test_refreshing_forgets_the_old_tree(browsable):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_web_logs(pilot)
        tree = screen.prefix_tree
        day = tree.root.children[0]
        day.expand()
        await wait_until(pilot, lambda: loaded(day), "day-1/ listed")
        old_key = day.children[0]

        await pilot.press("r")
        await wait_until(pilot, lambda: loaded(tree.root), "the bucket listed again")
        await settle(pilot)
        assert [child.data.prefix for child in tree.root.children] == ["day-1/", "day-2/"]
        assert node_count(tree) == 3, "only the new root and its two prefixes are registered"
        assert_lines_match_the_nodes(tree)
        # Detached and unregistered (a finished listing worker may still hold the old folder a while).
        assert old_key.parent is None and old_key.line == -1
        assert all(node is not old_key for node in tree._tree_nodes.values())
