"""Storage: schema, connections, paging and maintenance. Never imports Textual."""

from storemon_tui.db.database import Database, bump_data_version, get_data_version, open_database

__all__ = ["Database", "bump_data_version", "get_data_version", "open_database"]
