"""The uptime/downtime report: inputs, business hours, engine, formatting.

Kept import-light: the engine needs numpy only; SQLAlchemy is imported only
by ``source``.
"""

from storemon_tui.report.engine import ReportResult, compute_report
from storemon_tui.report.formatting import REPORT_HEADER, write_report_csv
from storemon_tui.report.inputs import ReportInput

__all__ = ["REPORT_HEADER", "ReportInput", "ReportResult", "compute_report", "write_report_csv"]
