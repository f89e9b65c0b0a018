"""PrefixTree repaints only what an edit changed, and what it shows is what a rebuilt tree shows.

The tree's edits (`add_children`, `remove_node`, `drop_children`, expand and collapse) mark only
the lines from the first changed one down as dirty, and set the scrollable size without a layout
of the screen. These tests compare the screen, as drawn from the caches after each edit, with the
screen drawn again after Textual's own full rebuild, and count the lines drawn again.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from s3cred_tui.ui.widgets.prefix_tree import PrefixTree

SIZE = (60, 14)


class TreeApp(App[None]):
    def compose(self) -> ComposeResult:
        tree = PrefixTree(Text("bucket", style="bold"), id="tree")
        tree.guide_depth = 3
        yield tree


def folders(names: list[str]) -> list[tuple[Text, object, bool]]:
    return [(Text(name, style="bold"), name, True) for name in names]


def files(prefix: str, count: int, start: int = 0) -> list[tuple[Text, object, bool]]:
    return [(Text(f"{prefix}part-{index:04d}.json  2 B"), None, False) for index in range(start, start + count)]


def screen_text(app: App[None]) -> list[str]:
    """The screen as drawn now: every widget's lines from its caches (a line is drawn again only
    where something marked it dirty)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def assert_draws_as_rebuilt(app: App[None], pilot, tree: PrefixTree, what: str) -> None:
    await pilot.pause()
    drawn = screen_text(app)
    tree._invalidate()  # Textual's own path: every line rebuilt and drawn again
    await pilot.pause()
    assert drawn == screen_text(app), f"after {what}, the tree shows what a rebuilt tree shows"


async def test_edited_tree_draws_what_a_rebuilt_tree_draws():
    app = TreeApp()
    async with app.run_test(size=SIZE) as pilot:
        tree = app.query_one(PrefixTree)
        root = tree.root
        root.expand()
        top = tree.add_children(root, folders(["a/", "b/", "c/", "d/"]))
        await assert_draws_as_rebuilt(app, pilot, tree, "adding the first level")

        top[0].expand()
        tree.add_children(top[0], files("a/", 5))
        await assert_draws_as_rebuilt(app, pilot, tree, "adding children on screen")

        tree.add_children(top[0], files("a/", 3, start=5))  # the old last child is no longer last
        await assert_draws_as_rebuilt(app, pilot, tree, "appending to a folder on screen")

        top[3].expand()
        tree.add_children(top[3], files("d/", 40))  # mostly below the window
        await assert_draws_as_rebuilt(app, pilot, tree, "adding children running past the window")

        tree.move_cursor(top[3].children[30])
        await assert_draws_as_rebuilt(app, pilot, tree, "scrolling down")

        top[0].collapse()  # above the window: every shown line moves up
        await assert_draws_as_rebuilt(app, pilot, tree, "collapsing a folder above the window")

        top[0].expand()
        await assert_draws_as_rebuilt(app, pilot, tree, "expanding it again")

        tree.remove_node(top[3].children[-1])
        tree.remove_node(top[2])
        await assert_draws_as_rebuilt(app, pilot, tree, "removing nodes")

        tree.drop_children(top[3])
        await assert_draws_as_rebuilt(app, pilot, tree, "dropping a folder's children")

        tree.add_children(top[1], folders(["a-folder-name-longer-than-the-window-is-wide-by-far/"]))
        top[1].expand()
        await assert_draws_as_rebuilt(app, pilot, tree, "a line wider than the window")


async def test_children_added_below_the_window_draw_no_shown_line_again(monkeypatch):
    app = TreeApp()
    async with app.run_test(size=SIZE) as pilot:
        tree = app.query_one(PrefixTree)
        root = tree.root
        root.expand()
        top = tree.add_children(root, folders(["a/", "b/"]))
        top[0].expand()
        tree.add_children(top[0], files("a/", 30))
        top[1].expand()
        await pilot.pause()
        assert top[1].line >= tree.size.height, "b/ is below the window"

        drawn: list[int] = []
        render_line = PrefixTree._render_line

        def counting(self, y, *args):
            drawn.append(y)
            return render_line(self, y, *args)

        monkeypatch.setattr(PrefixTree, "_render_line", counting)
        tree.add_children(top[1], files("b/", 20))
        await pilot.pause()
        assert drawn == [], "only the scrollbar changed on screen"
        assert tree.virtual_size.height == 1 + 2 + 30 + 20

        # Lines that did change on screen are drawn again, the ones above them are not.
        drawn.clear()
        tree.add_children(top[0], files("a/", 1, start=30))  # appended below the window too
        tree.remove_node(top[0].children[3])  # line 5: the lines from there down move up
        await pilot.pause()
        assert drawn and min(drawn) == top[0].children[3].line
        # Lines drawn before an edit (keyed by a count the edit moved on) are not kept.
        assert len(tree._line_cache) <= tree.size.height
        monkeypatch.undo()
        await assert_draws_as_rebuilt(app, pilot, tree, "the edits")


async def test_a_replaced_label_is_measured_again():
    app = TreeApp()
    async with app.run_test(size=SIZE) as pilot:
        tree = app.query_one(PrefixTree)
        tree.root.expand()
        (folder,) = tree.add_children(tree.root, folders(["a/"]))
        await pilot.pause()
        short = tree.get_label_width(folder)
        folder.set_label(Text("a-much-longer-folder-name/"))
        assert tree.get_label_width(folder) == short + len("a-much-longer-folder-name/") - len("a/")
