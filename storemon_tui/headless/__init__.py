"""Unattended operation: the drop-folder watcher, the health check and structured logs.

Headless clients of the core, like :mod:`storemon_tui.cli`: they import,
report and read through ``db``, ``ingest`` and ``report`` and never import
Textual. ``cli.py`` only wires their flags.
"""
