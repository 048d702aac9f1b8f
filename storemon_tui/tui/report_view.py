"""A finished report as an in-memory frame: sort, filter, page, fleet summary.

A report has one row per store (14,000 at most in practice), so sorting and
filtering in pandas is instant; only one page of display strings ever reaches
a widget. Values are displayed exactly as written in the CSV (strings), and
sorted by their numeric value. pandas is imported lazily (only in workers).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from storemon_tui.report.formatting import REPORT_COLUMNS

if TYPE_CHECKING:
    import numpy as np

PAGE_SIZE = 200


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


@dataclass(frozen=True)
class ViewPage:
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    number: int
    page_count: int
    total: int
    """Rows matching the filter."""


class ReportFrame:
    """One report CSV, with a current sort and store filter."""

    def __init__(self, path: str | Path, page_size: int = PAGE_SIZE) -> None:
        import pandas as pd

        self.text = pd.read_csv(path, dtype=str, keep_default_na=False)
        if tuple(self.text.columns) != REPORT_COLUMNS:
            raise ValueError(f"{path}: not a storemon report (unexpected header)")
        self.values = self.text[list(REPORT_COLUMNS[1:])].astype(float)
        self.id_width = int(self.text["store_id"].str.len().max()) if len(self.text) else 0
        """The longest store id of the whole report (one column width for every page)."""
        self.page_size = page_size
        self.sort_column: str = "store_id"
        self.descending = False
        self.filter = ""
        self._order = self._compute_order()

    @property
    def columns(self) -> tuple[str, ...]:
        return REPORT_COLUMNS

    def set_view(
        self, *, sort_column: str | None = None, descending: bool | None = None, filter: str | None = None
    ) -> None:
        if sort_column is not None:
            if sort_column not in REPORT_COLUMNS:
                raise ValueError(f"unknown column {sort_column!r}")
            self.sort_column = sort_column
        if descending is not None:
            self.descending = descending
        if filter is not None:
            self.filter = filter.strip()
        self._order = self._compute_order()

    def _compute_order(self) -> np.ndarray:
        """Row positions of the current view: filtered, then sorted."""
        import numpy as np

        ids = self.text["store_id"]
        rows = np.arange(len(ids))
        if self.filter:
            exact = (ids == self.filter).to_numpy()
            mask = exact if exact.any() else ids.str.startswith(self.filter).to_numpy()
            rows = rows[mask]
        if self.sort_column == "store_id":
            keys = ids.to_numpy()[rows].astype(str)
            order = np.argsort(keys, kind="stable")
        else:
            keys = self.values[self.sort_column].to_numpy()[rows]
            # Stable: ties keep store_id order (the CSV is sorted by store_id).
            order = np.argsort(-keys if self.descending else keys, kind="stable")
            return rows[order]
        order = order[::-1] if self.descending else order
        return rows[order]

    @property
    def total(self) -> int:
        return len(self._order)

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def page(self, number: int) -> ViewPage:
        number = min(max(number, 1), self.page_count)
        start = (number - 1) * self.page_size
        picked = self._order[start : start + self.page_size]
        block = self.text.iloc[picked]
        rows = list(block.itertuples(index=False, name=None))
        return ViewPage(REPORT_COLUMNS, rows, number, self.page_count, self.total)

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
        return dict(zip(REPORT_COLUMNS, match.iloc[0].tolist(), strict=True))


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
