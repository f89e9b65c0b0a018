"""How work shares the interpreter and the frames with the event loop (no Textual here).

Worker threads take the GIL from the event loop: a worker going through thousands of rows
(stale-access cells, the credential report, policy evaluation) lets the loop run every
`ROWS_BETWEEN_YIELDS` rows by sleeping `YIELD_SECONDS`, long enough that the loop, not another
busy worker, takes the GIL (`time.sleep(0)` hands it back at once as often as not: stalls of
45-65 ms remained on the account screen).

On the loop itself, rows are handed to a DataTable a few at a time: `ADD_CELLS` cells' worth per
turn (the table measures each new cell on its next idle, ~50 µs each), and only
`NEW_CELLS_PER_FRAME` per frame where they land on screen (Rich draws a cell the first time in
~0.4 ms: a screenful at once held the loop for 50-150 ms).
"""

from __future__ import annotations

import time

ROWS_BETWEEN_YIELDS = 100
YIELD_SECONDS = 0.0005
ADD_CELLS = 200
NEW_CELLS_PER_FRAME = 45


def give_the_loop_a_turn() -> None:
    """On a worker thread: give up the GIL for a moment, so the event loop can take it."""
    time.sleep(YIELD_SECONDS)


def let_the_loop_run(index: int) -> None:
    """On a worker thread going through rows: `give_the_loop_a_turn` every `ROWS_BETWEEN_YIELDS` rows."""
    if index and index % ROWS_BETWEEN_YIELDS == 0:
        give_the_loop_a_turn()


def rows_per_step(columns: int, on_screen: bool) -> int:
    """Rows of `columns` cells to hand a DataTable in one step (see the module's docstring)."""
    return max(1, (NEW_CELLS_PER_FRAME if on_screen else ADD_CELLS) // max(1, columns))
