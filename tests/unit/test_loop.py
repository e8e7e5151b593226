"""tui_phone.loop: the loop the phone runs on, and the heap settled after start-up."""

from __future__ import annotations

import gc

from tui_phone.loop import new_loop, settle_heap
from tui_phone.rtp.mediathread import media_thread


def test_settle_heap_freezes_what_exists_so_collections_skip_it() -> None:
    survivors = [[index] for index in range(1000)]  # lists: tracked by the collector
    frozen_before = gc.get_freeze_count()
    try:
        settle_heap()
        assert gc.get_freeze_count() >= frozen_before + len(survivors)
        collected = {id(item) for item in gc.get_objects()}  # generations 0 to 2, not the frozen
        assert not any(id(item) in collected for item in survivors)
        made_after = [0]
        assert id(made_after) in {id(item) for item in gc.get_objects()}
    finally:
        gc.unfreeze()  # the rest of the test run collects as usual


def test_new_loop_has_a_media_thread() -> None:
    loop = new_loop()
    try:
        assert media_thread(loop) is not None
    finally:
        loop.close()
