"""A week of one store drawn as coloured cells: one row per local day, "now" and the current run marked."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from storemon_tui.report.store_detail import CLOSED, DOWN, NO_DATA, OUTSIDE, SLOT_MINUTES, SLOTS_PER_DAY, UP, day_label

LABEL_WIDTH = 11
"""``Wed 01-18`` and a space; the corner above says ``2023 local``."""
CELL_MINUTES = (5, 10, 15, 20, 30, 60)
PARTLY = 5
"""A cell state only (not a slot state): open time both up and down in the cell."""
GLYPHS = {UP: "█", PARTLY: "▄", DOWN: "▒", NO_DATA: "░", CLOSED: "·", OUTSIDE: " "}
"""Distinct shapes, so the timeline reads without colour (NO_COLOR)."""
NAMES = {UP: "up", PARTLY: "partly down", DOWN: "down", NO_DATA: "no data", CLOSED: "closed", OUTSIDE: "outside week"}
LEGEND = (UP, PARTLY, DOWN, CLOSED, NO_DATA)
MIN_SECONDS = 1e-3
"""Less time than this in a state is float noise from the slot arithmetic, not an outage."""


def cell_minutes_for(width: int) -> int:
    """The finest cell size (minutes) whose 24 h row fits in ``width`` columns."""
    room = width - LABEL_WIDTH
    for minutes in CELL_MINUTES:
        if 24 * 60 // minutes <= room:
            return minutes
    return CELL_MINUTES[-1]


def now_marker(days: list[date], now: datetime, since: datetime | None, minutes: int, room: int) -> str:
    """The line under the last day: ``▲`` under now's cell and the current run drawn back to its start.

    ``╰───▲ now 13:12``: the run began at ``╰`` (``◀`` when it began before
    that day), both in the store's local time. ``room`` is the columns there
    are for cells; the words go right of ``▲``, else left of the run, else nowhere.
    """
    cells = 24 * 60 // minutes
    last = days[-1] if days else now.date()
    at = (now.hour * 60 + now.minute) // minutes if now.date() == last else cells
    at = min(at, cells - 1)  # midnight ends the last day's row
    line = [" "] * at + ["▲"]
    if since is not None and since < now:
        start = 0 if since.date() < last else (since.hour * 60 + since.minute) // minutes
        if start < at:
            line[start:at] = ["◀" if since.date() < last else "╰"] + ["─"] * (at - start - 1)
    words = f"now {now:%H:%M}"
    if at + 2 + len(words) <= room:
        return "".join(line) + " " + words
    first = next((i for i, ch in enumerate(line) if ch != " "), at)
    if first >= len(words) + 1:
        return " " * (first - len(words) - 1) + words + " " + "".join(line[first:])
    return "".join(line)


def cell_states(slots: np.ndarray, minutes: int) -> np.ndarray:
    """``(days, cells)`` state per cell, so that every outage shows, however short:

    * any down time and no up time: down; down *and* up time: partly down;
    * else any up time: up (closed or no-data time in the cell does not hide it);
    * else open without evidence: no data; nothing open: closed / outside the week.
    """
    per = minutes // SLOT_MINUTES
    grouped = slots.reshape(slots.shape[0], SLOTS_PER_DAY // per, per, slots.shape[2]).sum(axis=2)
    up = grouped[:, :, UP] > MIN_SECONDS
    down = grouped[:, :, DOWN] > MIN_SECONDS
    no_data = grouped[:, :, NO_DATA] > MIN_SECONDS
    out = np.where(grouped[:, :, OUTSIDE] > grouped[:, :, CLOSED], OUTSIDE, CLOSED)
    return np.select([down & up, down, up, no_data], [PARTLY, DOWN, UP, NO_DATA], default=out)


class Timeline(Widget):
    """Rows of cells; styles come from the component classes in app.tcss."""

    COMPONENT_CLASSES = {
        "timeline--up",
        "timeline--partly",
        "timeline--down",
        "timeline--nodata",
        "timeline--closed",
        "timeline--axis",
        "timeline--now",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.days: list = []
        self.slots: np.ndarray | None = None
        self.now: datetime | None = None
        self.since: datetime | None = None

    def set_data(
        self, days: list, slots: np.ndarray, *, now: datetime | None = None, since: datetime | None = None
    ) -> None:
        """The week's slots; ``now`` and ``since`` (local instants) mark now and the current run."""
        self.days, self.slots, self.now, self.since = days, slots, now, since
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.days) + 2 + (self.now is not None) if self.slots is not None else 1

    def render(self) -> Text:
        if self.slots is None or not self.days:
            return Text("no timeline")
        minutes = cell_minutes_for(self.content_size.width or 80)
        cells = cell_states(self.slots, minutes)
        styles = {
            UP: self.get_component_rich_style("timeline--up"),
            PARTLY: self.get_component_rich_style("timeline--partly"),
            DOWN: self.get_component_rich_style("timeline--down"),
            NO_DATA: self.get_component_rich_style("timeline--nodata"),
            CLOSED: self.get_component_rich_style("timeline--closed"),
            OUTSIDE: self.get_component_rich_style("timeline--closed"),
        }
        axis_style = self.get_component_rich_style("timeline--axis")
        per_hour = 60 // minutes if minutes <= 60 else 1
        axis = [" "] * cells.shape[1]
        step = 3 if cells.shape[1] >= 48 else 6
        for hour in range(0, 24, step):
            label = f"{hour:02d}"
            pos = hour * per_hour
            for i, ch in enumerate(label):
                if pos + i < len(axis):
                    axis[pos + i] = ch
        # The rows are local days: the corner says so, and which year their dates are in.
        corner = f"{self.days[0].year} local"
        text = Text(f"{corner:<{LABEL_WIDTH}}" + "".join(axis) + "\n", style=axis_style)
        for day, row in zip(self.days, cells, strict=True):
            text.append(f"{day_label(day):<{LABEL_WIDTH}}", style=axis_style)
            for state in row.tolist():
                text.append(GLYPHS[state], style=styles[state])
            text.append("\n")
        if self.now is not None:
            room = (self.content_size.width or 80) - LABEL_WIDTH
            marker = now_marker(self.days, self.now, self.since, minutes, room)
            text.append(" " * LABEL_WIDTH + marker + "\n", style=self.get_component_rich_style("timeline--now"))
        legend = Text(" " * LABEL_WIDTH)
        for state in LEGEND:
            legend.append(GLYPHS[state], style=styles[state])
            legend.append(f" {NAMES[state]}  ", style=axis_style)
        legend.append(f"1 cell = {minutes} min", style=axis_style)
        text.append_text(legend)
        return text
