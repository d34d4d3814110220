"""User-facing errors.

Every problem caused by the user's input (a file, a config, a model folder) is raised as
:class:`MFDError` with one line that names the file, the line where known, and the fix.
The command line prints that line and exits non-zero, never a traceback.

Failures of the system rather than of the input (a full disk, a closed pipe, a permission, a
missing device, undecodable text, a number too large) reach the command line as Python
exceptions; :func:`as_mfd_error` gives each of them the same one-line form, so the ``mfd``
command has one error boundary for all of them (:func:`mfd_model.cli.main`).
"""
from __future__ import annotations

import errno
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



# errno -> (what happened, what to do)
_OS_ERRORS = {
    errno.ENOSPC: ("no space left on the device", "free disk space, or write the outputs to another disk"),
    errno.EDQUOT: ("disk quota exceeded", "free space within the quota, or write the outputs elsewhere"),
    errno.EFBIG: ("file too large for this file system", "write the outputs to another file system"),
    errno.EPIPE: ("the output was closed before everything was written (broken pipe)",
                  "let the reader take the whole output, or write it to a file"),
    errno.EACCES: ("permission denied", "check the path and permissions"),
    errno.EPERM: ("operation not permitted", "check the path and permissions"),
    errno.EROFS: ("read-only file system", "write the outputs somewhere writable"),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.EISDIR: ("is a folder, not a file", "give a file name"),
    errno.ENOTDIR: ("a part of the path is not a folder", "check the path"),
    errno.ENODEV: ("no such device", "check the path or the device"),
    errno.ENXIO: ("no such device or address", "check the path or the device"),
    errno.EIO: ("input/output error", "check the disk (or network file system) and re-run"),
    errno.ENOMEM: ("out of memory", "use smaller batches or chunks, or a machine with more memory"),
}


def as_mfd_error(err: BaseException) -> MFDError | None:
    """The one-line form of an input or system failure; ``None`` for anything else (a bug).

    Covers :class:`MFDError` itself, ``OSError`` (by ``errno``: no space, broken pipe,
    permission, missing file or device ...), text that is not UTF-8, numbers too large for a
    64-bit integer and running out of memory.
    """
    if isinstance(err, MFDError):
        return err
    if isinstance(err, OSError):
        what, fix = _OS_ERRORS.get(err.errno, (None, "check the path, the disk and the permissions"))
        detail = " ".join(str(err.strerror or err).split())
        if what is None:
            what = detail or type(err).__name__
        path = err.filename if isinstance(err.filename, (str, Path)) else None
        return MFDError(what, path=path, fix=fix)
    if isinstance(err, UnicodeError):
        reason = getattr(err, "reason", str(err))
        where = f" at byte {err.start}" if isinstance(getattr(err, "start", None), int) else ""
        return MFDError(f"text that is not valid UTF-8 ({reason}{where})",
                        fix="convert the input to UTF-8, e.g. with 'iconv -t UTF-8'")
    if isinstance(err, OverflowError):
        return MFDError(f"a number is too large ({' '.join(str(err).split())})",
                        fix="check the input's positions, sizes and options")
    if isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError":  # torch's is a RuntimeError
        return MFDError("out of memory", fix="use a smaller --batch-size (or --chunk-size), or a machine with more memory")
    return None
