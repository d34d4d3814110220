"""Writing results without ever leaving a half-written output behind.

Every file a command writes goes to a temporary name in the destination folder first and is
renamed into place only when complete (``os.replace`` is atomic on one file system). A folder
of results (``mfd attribute OUTDIR``, ``mfd evaluate OUTDIR``) is staged the same way: files
collect in a hidden sibling folder and move into ``OUTDIR`` together at the end, so an error
half-way leaves ``OUTDIR`` as it was (:class:`StagedDir`; files of other names stay). A folder
that is one output as a whole (``mfd simulate``, ``mfd prepare``, ``mfd export``) is written
under a hidden sibling name and replaces the old folder whole (:func:`atomic_folder`).

Three more rules hold for every command: an output that is one of the command's inputs (the
same file, through symlinks or hard links) is refused before anything is written
(:func:`refuse_overwriting_inputs`); an output that is not a regular file (``/dev/stdout``, a
named pipe) is written in place, streamed, since it cannot be renamed (:func:`is_stream`); and
a file that is later filled through a memory map gets its disk blocks first
(:func:`reserve_space`), so a full disk is an error, not a SIGBUS.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from .errors import MFDError


def _file_mode() -> int:
    """The mode a newly created file gets under the current umask (mkstemp would leave 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def is_stream(path: str | Path) -> bool:
    """Whether ``path`` exists and is not a regular file or folder (``/dev/stdout``, a pipe, a device)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def refuse_overwriting_inputs(outputs: Iterable[str | Path | None], inputs: Iterable[str | Path | None]) -> None:
    """:class:`MFDError` if an output is one of the inputs: the same file or folder once symlinks
    (and hard links) are followed. Streams (``/dev/stdout``) are never the same as an input."""
    existing = [Path(p) for p in inputs if p is not None and str(p) and os.path.exists(p)]
    for output in outputs:
        if output is None or not str(output) or not os.path.exists(output) or is_stream(output):
            continue
        for source in existing:
            try:
                same = os.path.samefile(output, source)
            except OSError:
                continue
            if same:
                shown = "" if str(source) == str(output) else f" ({source})"
                raise MFDError(f"the output is also an input of this command{shown}; writing it would destroy the input",
                               path=output, fix="write the output to another path")


def reserve_space(path: str | Path) -> None:
    """Allocate the disk blocks of an existing (sparse) file now.

    A file that is filled through a memory map (``np.lib.format.open_memmap``) otherwise gets
    its blocks on first touch, and a full disk then kills the process with SIGBUS; here it is an
    ``OSError(ENOSPC)`` that the command reports in one line.
    """
    fd = os.open(path, os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        if size and hasattr(os, "posix_fallocate"):
            try:
                os.posix_fallocate(fd, 0, size)
            except OSError as err:
                if err.errno not in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS):  # cannot reserve: carry on
                    raise OSError(err.errno, err.strerror, str(path)) from None
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path next to ``path``; renamed to ``path`` if the block succeeds.

    The temporary name keeps ``path``'s suffixes (``.tmp.npz``), so writers that choose a
    format by extension (``np.savez``, ``DataFrame.to_parquet``, ``savefig``) behave. A stream
    (``/dev/stdout``, a named pipe; :func:`is_stream`) is yielded as it is: written in place.
    """
    path = Path(path)
    if is_stream(path):
        yield path
        return
    if path.is_dir():
        raise MFDError("output path is a folder", path=path, fix="give a file name")
    parent = _make_parent(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp" + "".join(path.suffixes), dir=parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
        except OSError as err:  # a full disk ...: name the output, not its temporary file
            if err.filename is None or str(err.filename) == str(tmp_path):
                err.filename = str(path)
            raise
        os.chmod(tmp_path, _file_mode())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()



def _make_parent(path: Path) -> Path:
    """Create ``path``'s parent folder if needed and return it (one error line when it cannot be made)."""
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MFDError(f"cannot create the output folder ({err.strerror})", path=parent,
                       fix="check the path and permissions") from None
    return parent


def _folder_mode() -> int:
    """The mode a newly created folder gets under the current umask (mkdtemp would leave 0700)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """A new, empty hidden folder beside ``path`` that replaces ``path`` whole when the block succeeds.

    Usage::

        with atomic_folder(outdir) as tmp:
            (tmp / "store.json").write_text(...)      # everything goes into tmp
        # now outdir is exactly what tmp held; on an exception outdir is as it was

    The folder, ``.<name>.partial-XXXXXXXX`` in ``path``'s parent (one file system, so the final
    rename is atomic), gets the mode a new folder gets under the umask. On success an existing
    ``path`` is renamed aside to ``.<name>.old-XXXXXXXX``, the new folder renamed to ``path`` and
    the old one removed (put back if that rename fails). On any exception, Ctrl-C and SIGTERM
    included, the new folder is removed and ``path`` is untouched. Whether an existing ``path``
    may be replaced is the caller's decision, checked before.

    Raises:
        MFDError: ``path`` is an existing file, or its parent folder cannot be created.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise MFDError("output exists and is not a folder", path=path, fix="choose a new folder name")
    parent = _make_parent(path)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=parent))
    try:
        os.chmod(staging, _folder_mode())
        yield staging
        _replace_folder(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)   # gone already after a successful rename


def _replace_folder(new: Path, path: Path) -> None:
    """Rename the folder ``new`` to ``path``, an existing ``path`` set aside first and removed after."""
    if not path.exists():
        os.replace(new, path)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
    os.replace(path, aside / path.name)
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(aside / path.name, path)
        aside.rmdir()
        raise
    shutil.rmtree(aside, ignore_errors=True)

def refuse_file_as_folder(path: str | Path) -> None:
    """Raise :class:`MFDError` when the output folder ``path`` is an existing file (checked before long work)."""
    if Path(path).exists() and not Path(path).is_dir():
        raise MFDError("output folder is an existing file", path=Path(path), fix="give a folder name")


class StagedDir:
    """Collect a command's output files in a hidden staging folder, publish them all at the end.

    Usage::

        with StagedDir(outdir) as out:
            np.savez(out / "attributions.npz", ...)   # out / name is inside the staging folder
            plot(..., out / "profile.png")
        # now every file is in outdir; on an exception nothing in outdir changed

    Existing files of the same name in ``outdir`` are replaced; others are left alone.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._staging: Path | None = None
        self.written: list[Path] = []

    def __enter__(self) -> "StagedDir":
        refuse_file_as_folder(self.path)
        parent = self.path.parent if str(self.path.parent) else Path(".")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise MFDError(f"cannot create the output folder ({err.strerror})", path=parent,
                           fix="check the path and permissions") from None
        self._staging = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.staging.", dir=parent))
        return self

    def __truediv__(self, name: str) -> Path:
        assert self._staging is not None, "use StagedDir as a context manager"
        return self._staging / name

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._staging is not None
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(self.path)  # a full disk ...: name the output folder
        try:
            if exc_type is None:
                self.path.mkdir(parents=True, exist_ok=True)
                for item in sorted(self._staging.rglob("*")):
                    if item.is_file():
                        target = self.path / item.relative_to(self._staging)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(item, target)
                        self.written.append(target)
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)
