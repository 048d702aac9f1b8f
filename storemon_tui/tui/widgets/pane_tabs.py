"""The app's panes: tabs whose pane is chosen by the user and start-up, never by a late focus."""

from __future__ import annotations

from textual import on
from textual.message import Message
from textual.widgets import TabbedContent, TabPane


class PaneTabs(TabbedContent):
    """A ``TabbedContent`` where the focus follows the tab shown, never the other way round.

    ``TabbedContent`` shows the pane of any widget that gets the focus. With
    ``Widget.focus()`` deferred (``call_later``), a focus asked for just before
    the app switched panes lands afterwards, in the pane just hidden, and would
    switch back: start-up focuses the Status table, and when an empty
    database's summary had already opened the Import pane, the app returned to
    Status with the focus on its hidden table. Here such a focus only tells the
    app (:class:`FocusStrayed`), which puts the focus back in the pane shown.
    """

    class FocusStrayed(Message):
        """A widget of a hidden pane got the focus; the pane shown stays (the app reads which it is)."""

    @on(TabPane.Focused)
    def focus_stays_in_the_shown_pane(self, event: TabPane.Focused) -> None:
        event.stop()
        event.prevent_default()  # TabbedContent's own handler would show the focused widget's pane
        if event.tab_pane.id != self.active:
            self.post_message(self.FocusStrayed())
