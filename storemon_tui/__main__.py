"""Allow ``python -m storemon_tui``."""

from storemon_tui.cli import entry_point

entry_point()
