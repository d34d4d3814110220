"""User-facing errors.

Every problem caused by the user's input (a file, a config, a model folder) is raised as
:class:`MFDError` with one line that names the file, the line where known, and the fix.
The command line prints that line and exits non-zero, never a traceback.
"""
from __future__ import annotations

from pathlib import Path


class MFDError(Exception):
    """A problem with the user's input, reported as one clear line.

    Args:
        message: what is wrong.
        path: the file it is in, if any.
        line: 1-based line number in ``path``, if known.
        fix: what to do about it.
    """

    def __init__(self, message: str, *, path: str | Path | None = None,
                 line: int | None = None, fix: str | None = None) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        text = f"{where}{self.message}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return " ".join(text.split())


class ConfigError(MFDError):
    """An invalid configuration value or combination."""


class MetadataError(MFDError):
    """An invalid metadata table or metadata schema."""

