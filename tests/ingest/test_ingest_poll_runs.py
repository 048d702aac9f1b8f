"""The external sort of big polls files agrees exactly with sorting everything at once."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from storemon_tui.ingest.poll_runs import sorted_polls
from storemon_tui.ingest.polls import sort_last_wins
from storemon_tui.ingest.spool import BlockSpool


def reference(
    codes: list[int], ts: list[int], active: list[int], keys_of_code: list[int]
) -> list[tuple[int, int, int]]:
    """The obvious definition: walk the rows in file order, the last row of a key wins; sort by key."""
    last: dict[tuple[int, int], int] = {}
    for code, t, a in zip(codes, ts, active, strict=True):
        last[(keys_of_code[code], t)] = a
    return sorted((k, t, a) for (k, t), a in last.items())


polls = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 30), st.integers(0, 1)), min_size=0, max_size=300)


@settings(max_examples=150, deadline=None)
@given(
    rows=polls,
    block_size=st.integers(1, 40),
    run_rows=st.integers(1, 120),
    merge_rows=st.integers(1, 200),
    memory_bytes=st.sampled_from([0, 10**9]),
    wide=st.booleans(),
)
def test_runs_merged_from_disk_equal_one_sort(
    rows: list[tuple[int, int, int]], block_size: int, run_rows: int, merge_rows: int, memory_bytes: int, wide: bool
) -> None:
    codes = [r[0] for r in rows]
    base = 1_600_000_000_000_000
    # ``wide``: keys and times too far apart to pack into one int64 (the lexsort path)
    ts = [base + r[1] * (10**15 if wide else 1) for r in rows]
    active = [r[2] for r in rows]
    keys_of_code = np.array([40, 10, 30, 2**31 - 1 if wide else 20, 50, 60, 5], dtype=np.int64)
    spool = BlockSpool(memory_bytes=memory_bytes)
    for start in range(0, len(rows), block_size):
        stop = start + block_size
        spool.append(
            {
                "store": np.array(codes[start:stop], dtype=np.int32),
                "ts_us": np.array(ts[start:stop], dtype=np.int64),
                "active": np.array(active[start:stop], dtype=np.int8),
            }
        )
    chunks = list(sorted_polls(spool, keys_of_code, run_rows=run_rows, merge_rows=merge_rows))
    spool.close()
    got = [
        (k, t, a)
        for chunk in chunks
        for k, t, a in zip(chunk.keys.tolist(), chunk.ts_us.tolist(), chunk.active.tolist(), strict=True)
    ]
    expected = reference(codes, ts, active, keys_of_code.tolist())
    assert got == expected
    assert sum(chunk.duplicates for chunk in chunks) == len(rows) - len(expected)
    if rows:
        whole = sort_last_wins(keys_of_code[np.array(codes)], np.array(ts), np.array(active, dtype=np.int8))
        assert whole.duplicates == len(rows) - len(expected)
