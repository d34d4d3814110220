"""Writing results without ever leaving a half-written output behind.

Every file a command writes goes to a temporary name in the destination folder first and is
renamed into place only when complete (``os.replace`` is atomic on one file system). A folder
of results (``mfd attribute OUTDIR``, ``mfd evaluate OUTDIR``) is staged the same way: files
collect in a hidden sibling folder and move into ``OUTDIR`` together at the end, so an error
half-way leaves ``OUTDIR`` as it was.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import MFDError


def _file_mode() -> int:
    """The mode a newly created file gets under the current umask (mkstemp would leave 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path next to ``path``; renamed to ``path`` if the block succeeds.

    The temporary name keeps ``path``'s suffixes (``.tmp.npz``), so writers that choose a
    format by extension (``np.savez``, ``DataFrame.to_parquet``, ``savefig``) behave.
    """
    path = Path(path)
    if path.is_dir():
        raise MFDError("output path is a folder", path=path, fix="give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MFDError(f"cannot create the output folder ({err.strerror})", path=parent,
                       fix="check the path and permissions") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp" + "".join(path.suffixes), dir=parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, _file_mode())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


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
        if self.path.exists() and not self.path.is_dir():
            raise MFDError("output folder is an existing file", path=self.path, fix="give a folder name")
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
