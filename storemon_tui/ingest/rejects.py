"""The rejects file: invalid records, verbatim, with the reason each was refused.

Written next to the input as ``FILE.rejects.csv`` so a user can fix the rows
and import just that file again (its extra ``reason`` column is ignored).
Each record is copied byte for byte from the input (``"s2"x`` stays
``"s2"x``), then ``,`` and the reason; a record with too few fields gets
empty ones first, so the reason lands in the ``reason`` column.

All or nothing: the records go to a temporary file while the input is read
(one record at a time, so a huge bad record never sits in memory), and the
temporary file becomes ``FILE.rejects.csv`` just before the import commits.
If it cannot be written, the import fails and nothing from the file is
committed; the error names the rejects file.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from storemon_tui.atomic_write import AtomicFile
from storemon_tui.ingest.problems import FileError, Problem

_COPY_BYTES = 1 << 20


def rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


class Rejects:
    """The rejects file of one input file, filled while it is read."""

    def __init__(self, source: Path, header: str) -> None:
        self.source = source
        self.target = rejects_path(source)
        self.header = header
        self.count = 0
        self._file: AtomicFile | None = None
        self._out: IO[bytes] | None = None
        self._input: IO[bytes] | None = None

    def add(self, start: int, end: int, problems: list[Problem], missing_fields: int = 0) -> None:
        """Copy input bytes ``[start, end)`` (one record) with the reasons of its problems."""
        out = self._output()
        source = self._source()
        try:
            source.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = source.read(min(remaining, _COPY_BYTES))
                if not chunk:
                    break
                out.write(chunk)
                remaining -= len(chunk)
            reason = "; ".join(
                f"line {p.line}: " + (f"column '{p.column}': " if p.column else "") + p.reason for p in problems
            )
            out.write(b"," * (missing_fields + 1) + _csv_field(reason).encode("utf-8") + b"\n")
        except OSError as exc:
            raise self._error(exc) from None
        self.count += 1

    def finish(self) -> None:
        """Everything is written and flushed to disk; :meth:`publish` only renames."""
        if self._input is not None:
            self._input.close()
            self._input = None
        if self._file is not None and self._out is not None:
            try:
                self._file.finish()
            except OSError as exc:
                raise self._error(exc) from None
            finally:
                self._out = None

    def publish(self) -> Path | None:
        """Move the finished file into place (``None`` if nothing was rejected)."""
        if self._file is None:
            return None
        self.finish()
        try:
            self._file.commit()
        except OSError as exc:
            raise self._error(exc) from None
        self._file = None
        return self.target

    def discard(self) -> None:
        """Forget everything written so far (the import failed)."""
        if self._input is not None:
            self._input.close()
        if self._file is not None:
            self._file.discard()
        self._out = self._input = self._file = None

    def _output(self) -> IO[bytes]:
        if self._out is None:
            try:
                self._file = AtomicFile(self.target)  # see atomic_write: links followed, no temporary left behind
            except OSError as exc:
                raise self._error(exc) from None
            self._out = self._file.handle
            self._out.write((self.header + ",reason\n").encode("utf-8"))
        return self._out

    def _source(self) -> IO[bytes]:
        if self._input is None:
            try:
                self._input = open(self.source, "rb")  # noqa: SIM115 - held across add() calls, closed by finish()
            except OSError as exc:
                raise FileError(self.source, f"cannot be read again ({exc.strerror or exc})") from None
        return self._input

    def _error(self, exc: OSError) -> FileError:
        self.discard()
        return FileError(
            self.target,
            f"the rejects file cannot be written ({exc.strerror or exc}); nothing from {self.source} was imported",
        )


def _csv_field(text: str) -> str:
    """``text`` as one CSV field (quoted when it must be)."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
