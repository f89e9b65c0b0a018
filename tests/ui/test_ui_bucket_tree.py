"""The bucket screen's prefix tree stays bounded: pages added in chunks, collapsed prefixes dropped and relisted."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from s3cred_tui.ui.screens import bucket as bucket_screen
from s3cred_tui.ui.screens.bucket import ADD_CHUNK, BucketScreen, MoreData, PrefixData
from tests.ui.helpers import make_app, settle, wait_until

SIZE = (140, 42)
# More than one chunk, less than one page (bucket_screen.PREFIX_PAGE_SIZE).
KEYS_PER_DAY = ADD_CHUNK + 57


@pytest.fixture
def browsable():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="web-logs")
        for day in ("day-1", "day-2"):
            for index in range(KEYS_PER_DAY):
                s3.put_object(Bucket="web-logs", Key=f"{day}/part-{index:04d}.json", Body=b"{}")
        yield


def loaded(node) -> bool:
    return isinstance(node.data, PrefixData) and node.data.loaded and not node.data.loading


async def open_web_logs(pilot) -> BucketScreen:
    await settle(pilot)
    pilot.app.account_screen().open_bucket("web-logs")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BucketScreen)
    return screen


async def test_a_page_is_added_in_chunks_and_a_collapsed_prefix_drops_it(browsable, monkeypatch):
    listed: list[str] = []
    original = bucket_screen.iter_prefix_pages

    def recording(ctx, bucket, prefix="", **kwargs):
        listed.append(prefix)
        return original(ctx, bucket, prefix, **kwargs)

    monkeypatch.setattr(bucket_screen, "iter_prefix_pages", recording)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_web_logs(pilot)
        day = screen.prefix_tree.root.children[0]
        assert day.data.prefix == "day-1/"
        day.expand()
        await wait_until(pilot, lambda: loaded(day), "day-1/ listed and added")
        assert len(day.children) == KEYS_PER_DAY
        assert screen.objects_loaded == KEYS_PER_DAY and screen.bytes_loaded == 2 * KEYS_PER_DAY

        day.collapse()
        await settle(pilot)
        assert list(day.children) == [], "what was loaded under a collapsed prefix is dropped"
        assert screen.objects_loaded == 0 and screen.bytes_loaded == 0 and screen.prefixes_loaded == 2
        assert str(day.label) == "day-1/"

        day.expand()
        await wait_until(pilot, lambda: loaded(day), "day-1/ listed again")
        assert len(day.children) == KEYS_PER_DAY
        assert listed.count("day-1/") == 2, "expanding again lists the prefix afresh"


async def test_collapsing_while_a_page_is_being_added_stops_adding_it(browsable, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_web_logs(pilot)
        # Hold the next chunk instead of letting the event loop run it.
        held: list[tuple] = []
        call_later = screen.call_later

        def hold_chunks(callback, *args, **kwargs):
            if getattr(callback, "__name__", "") == "_add_children":
                held.append((callback, args))
                return True
            return call_later(callback, *args, **kwargs)

        monkeypatch.setattr(screen, "call_later", hold_chunks)
        day = screen.prefix_tree.root.children[1]
        day.expand()
        await wait_until(pilot, lambda: bool(held), "the first chunk")
        assert len(day.children) == ADD_CHUNK and day.data.loading
        day.collapse()
        await settle(pilot)
        callback, args = held.pop()
        callback(*args)  # the next chunk, arriving after the collapse
        assert list(day.children) == [] and not day.data.loaded and not day.data.loading
        assert screen.objects_loaded == 0


async def test_load_more_still_pages_after_chunked_adds(browsable, monkeypatch):
    monkeypatch.setattr(bucket_screen, "PREFIX_PAGE_SIZE", ADD_CHUNK)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_web_logs(pilot)
        day = screen.prefix_tree.root.children[0]
        day.expand()
        await wait_until(pilot, lambda: loaded(day), "the first page")
        assert len(day.children) == ADD_CHUNK + 1 and isinstance(day.children[-1].data, MoreData)
        screen.prefix_tree.select_node(day.children[-1])
        await wait_until(pilot, lambda: loaded(day) and len(day.children) > ADD_CHUNK + 1, "the second page")
        assert len(day.children) == KEYS_PER_DAY, "every key, no \"load more…\" left"
