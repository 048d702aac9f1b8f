"""Allow ``python -m storemon_tui``."""

from storemon_tui.cli import main

raise SystemExit(main())
