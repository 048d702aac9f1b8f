#!/usr/bin/env python
"""A yardstick for the benchmark: the bare "tuned loader" for a polls file, nothing else.

Why: this machine's speed drifts by 1.5–2x over tens of minutes, so a
storemon figure means little on its own. This script does what the
foundation issue describes as a tuned loader -- Arrow CSV reading with
dictionary-encoded ids, integer store keys and integer microsecond
timestamps, rows sorted in numpy, multi-row ``INSERT … VALUES`` into a
``WITHOUT ROWID`` table, one transaction -- with none of storemon's work
around it: no validation, line numbers, rejects, progress, read-ahead,
business hours or time zones. ``bench.py --reference`` times it next to
storemon, as a whole process, on the same polls file.

Usage: ``python bench/reference_loader.py DB.sqlite store_status.csv`` (DB must not exist).
"""

from __future__ import annotations

import os
import sqlite3
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROWS_PER_STATEMENT = 500
DICTIONARY = pa.dictionary(pa.int32(), pa.string())


def main(db_path: str, polls_path: str) -> None:
    table = pacsv.read_csv(
        polls_path,
        convert_options=pacsv.ConvertOptions(
            column_types={"store_id": DICTIONARY, "timestamp_utc": pa.string(), "status": DICTIONARY}
        ),
    )
    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA cache_size=-262144")
    con.execute("CREATE TABLE store (store_key INTEGER PRIMARY KEY, store_id TEXT NOT NULL UNIQUE)")
    con.execute(
        "CREATE TABLE poll (store_key INTEGER NOT NULL, ts_us BIGINT NOT NULL, active SMALLINT NOT NULL, "
        "PRIMARY KEY (store_key, ts_us)) WITHOUT ROWID"
    )
    con.execute("BEGIN")
    ids = table.column("store_id").unify_dictionaries().combine_chunks()
    con.executemany("INSERT INTO store (store_id) VALUES (?)", ((sid,) for sid in ids.dictionary.to_pylist()))
    key_of = dict(con.execute("SELECT store_id, store_key FROM store"))
    keys = np.array([key_of[sid] for sid in ids.dictionary.to_pylist()], dtype=np.int64)[np.asarray(ids.indices)]
    ts_us = np.asarray(
        pc.utf8_slice_codeunits(table.column("timestamp_utc"), 0, -4).cast(pa.timestamp("us")).cast(pa.int64())
    )
    status = table.column("status").unify_dictionaries().combine_chunks()
    active = np.array([s == "active" for s in status.dictionary.to_pylist()], dtype=np.int64)[
        np.asarray(status.indices)
    ]

    base = int(ts_us.min())
    span_bits = max(int(ts_us.max()) - base, 1).bit_length()
    packed = np.sort((keys << (span_bits + 1)) | ((ts_us - base) << 1) | active)

    def row(n: int) -> str:
        return f"(?{n}>>{span_bits + 1},((?{n}>>1)&{(1 << span_bits) - 1})+{base},?{n}&1)"

    full = "INSERT INTO poll VALUES " + ",".join(row(i + 1) for i in range(ROWS_PER_STATEMENT))
    params = packed.tolist()
    whole = len(params) - len(params) % ROWS_PER_STATEMENT
    con.executemany(full, (params[i : i + ROWS_PER_STATEMENT] for i in range(0, whole, ROWS_PER_STATEMENT)))
    con.executemany(f"INSERT INTO poll VALUES {row(1)}", ((p,) for p in params[whole:]))
    con.execute("COMMIT")
    sys.stdout.flush()
    os._exit(0)  # like storemon's CLI: no interpreter teardown of the arrays


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.strip().splitlines()[-1])
    main(*sys.argv[1:])
