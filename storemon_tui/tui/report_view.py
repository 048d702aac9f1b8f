"""A finished report as an in-memory frame: sorted and filtered views, fleet summary.

A report has one row per store (14,000 at most in practice), so sorting and
filtering in pandas is instant; only a window of display strings ever reaches
a widget. Values are displayed exactly as written in the CSV (strings), and
sorted by their numeric value. pandas is imported lazily (only in workers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.cells import cell_len

from storemon_tui.paging import Page, store_filter_mask
from storemon_tui.report.formatting import REPORT_COLUMNS, REPORT_HEADER, csv_field
from storemon_tui.safe_text import visible

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

UPTIME_PCT = "uptime_pct_last_week"
"""A column the app adds to a report's: the week's uptime as a share of its business hours
(empty for a store with none), rounded down to 0.1. Shown and sortable; never exported, never compared."""
SHOWN_COLUMNS = (*REPORT_COLUMNS, UPTIME_PCT)


@dataclass(frozen=True)
class FleetSummary:
    stores: int
    up_week_h: float
    down_week_h: float
    worst: list[tuple[str, float]]
    """(store_id, last-week uptime %) of the worst stores with business hours."""

    @property
    def uptime_pct(self) -> float | None:
        total = self.up_week_h + self.down_week_h
        return 100 * self.up_week_h / total if total else None


class ReportFrame:
    """One report CSV, read once; each sort and store filter of it is a :class:`ReportView`."""

    def __init__(self, path: str | Path) -> None:
        import pandas as pd

        self.text = pd.read_csv(path, dtype=str, keep_default_na=False)
        if tuple(self.text.columns) != REPORT_COLUMNS:
            raise ValueError(f"{path}: not a storemon report (unexpected header)")
        self.values = self.text[list(REPORT_COLUMNS[1:])].astype(float)
        up, down = self.values["uptime_last_week"], self.values["downtime_last_week"]
        business = up + down
        self.values[UPTIME_PCT] = (100 * up / business).where(business > 0)  # NaN: no business hours
        self.text[UPTIME_PCT] = self.values[UPTIME_PCT].map(_percent)
        self.id_width = _shown_width(self.text["store_id"])
        """The widest store id of the whole report as shown (escaped, in terminal cells): one width for every view."""

    @property
    def columns(self) -> tuple[str, ...]:
        return SHOWN_COLUMNS

    def view(self, sort_column: str = "store_id", descending: bool = False, filter: str = "") -> ReportView:
        if sort_column not in SHOWN_COLUMNS:
            raise ValueError(f"unknown column {sort_column!r}")
        return ReportView(self, sort_column, descending, filter.strip())

    def summary(self, worst: int = 10) -> FleetSummary:
        up = self.values["uptime_last_week"]
        down = self.values["downtime_last_week"]
        business = up + down
        with_hours = business > 0
        pct = (100 * up[with_hours] / business[with_hours]).round(6)
        frame = self.text.loc[with_hours, ["store_id"]].assign(pct=pct.to_numpy())
        frame = frame.sort_values(["pct", "store_id"], kind="stable").head(worst)
        return FleetSummary(
            stores=len(self.text),
            up_week_h=float(up.sum()),
            down_week_h=float(down.sum()),
            worst=[(str(s), float(p)) for s, p in frame.itertuples(index=False, name=None)],
        )

    def row_for(self, store_id: str) -> dict[str, str] | None:
        match = self.text[self.text["store_id"] == store_id]
        if match.empty:
            return None
        return dict(zip(REPORT_COLUMNS, match.iloc[0][list(REPORT_COLUMNS)].tolist(), strict=True))


class ReportView:
    """One sort and store filter of a report: a :class:`~storemon_tui.paging.RowSource`.

    Immutable: a new sort or filter is a new view, so a table still reading
    the old one never sees rows of the new order.
    """

    def __init__(self, frame: ReportFrame, sort_column: str, descending: bool, filter: str) -> None:
        self.frame, self.sort_column, self.descending, self.filter = frame, sort_column, descending, filter
        self._order = self._compute_order()
        self._widths = (frame.id_width,) + (0,) * (len(SHOWN_COLUMNS) - 1)

    @property
    def columns(self) -> tuple[str, ...]:
        return SHOWN_COLUMNS

    def _compute_order(self) -> np.ndarray:
        """Row positions of this view: filtered, then sorted."""
        import numpy as np

        ids = self.frame.text["store_id"]
        rows = np.arange(len(ids))
        if self.filter:
            rows = rows[store_filter_mask(ids.to_numpy(), self.filter)]
        if self.sort_column == "store_id":
            keys = ids.to_numpy()[rows].astype(str)
            order = np.argsort(keys, kind="stable")
            return rows[order[::-1] if self.descending else order]
        keys = self.frame.values[self.sort_column].to_numpy()[rows]
        # Stable: ties keep store_id order (the CSV is sorted by store_id). NaN (no uptime %) sorts last either way.
        return rows[np.argsort(-keys if self.descending else keys, kind="stable")]

    def total(self) -> int:
        return len(self._order)

    def csv_bytes(self) -> bytes:
        """The report's CSV with just this view's stores, in the report's order (by store_id), values
        as written: what the filtered view exports."""
        import numpy as np

        rows = self.frame.text.iloc[np.sort(self._order)][list(REPORT_COLUMNS)].itertuples(index=False, name=None)
        lines = [REPORT_HEADER, *(",".join([csv_field(row[0]), *row[1:]]) for row in rows)]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def window(self, start: int, count: int, near: Page | None = None) -> Page:
        """Rows ``start`` … ``start + count - 1`` of this order (in memory: ``near`` is not needed)."""
        start = min(max(start, 0), self.total())
        picked = self._order[start : start + max(count, 0)]
        rows = list(self.frame.text.iloc[picked].itertuples(index=False, name=None))
        return Page(SHOWN_COLUMNS, rows, start, self.total(), widths=self._widths)


def _percent(value: float) -> str:
    """``99.9`` (rounded down: never ``100`` unless the store was up all week), ``100``; ``""`` for NaN."""
    if value != value:
        return ""
    return "100" if value >= 100 else f"{math.floor(value * 10) / 10:.1f}"


def _shown_width(ids: pd.Series) -> int:
    """The widest of ``ids`` on screen: its length for plain ASCII, else its escaped form's cell width."""
    if ids.empty:
        return 0
    special = ids.str.contains(r"[^\x20-\x7e]", regex=True)
    plain = int(ids[~special].str.len().max()) if (~special).any() else 0
    return max([plain, *(cell_len(visible(s)) for s in ids[special])])


def report_row(path: str | Path, store_id: str) -> dict[str, str] | None:
    """One store's row of a report CSV, read without pandas."""
    import csv

    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        for row in reader:
            if row and row[0] == store_id:
                return dict(zip(header or REPORT_COLUMNS, row, strict=False))
    return None
