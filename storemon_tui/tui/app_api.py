"""What the panes ask of the app, as a type.

Textual types ``self.app`` as a plain ``App``. This Protocol names the few
methods of the storemon app that panes call, so those calls are type-checked
(and ``app.py`` checks that the app provides them) without the panes
importing ``app.py``, which imports them.
"""

from __future__ import annotations

from typing import Protocol, cast

from textual.message_pump import MessagePump


class StoremonAPI(Protocol):
    def data_changed(self, *, reports_only: bool = False) -> None: ...

    def show_report(self, report_id: str) -> None: ...

    def open_store(
        self,
        store_id: str,
        *,
        as_of_us: int | None = None,
        report_row: dict[str, str] | None = None,
        report_label: str = "",
    ) -> None: ...

    def confirm_clear(self, tables: list[str]) -> None: ...

    def action_import_sample(self) -> None: ...

    def action_open_store_prompt(self) -> None: ...


def storemon_app(node: MessagePump) -> StoremonAPI:
    """``node.app``, the storemon app every pane is mounted in."""
    return cast(StoremonAPI, node.app)
