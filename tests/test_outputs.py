"""mfd_model.outputs.atomic_folder: a folder output appears whole or not at all.

The reference is the file system itself: every file under the parent folder is listed before,
inside and after the block, so a half-written output or a temporary folder left behind shows up.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from mfd_model.errors import MFDError
from mfd_model.outputs import atomic_folder


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included): relative path -> text."""
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_old(out: Path) -> None:
    (out / "sub").mkdir(parents=True)
    (out / "a.txt").write_text("old a")
    (out / "sub" / "only_old.txt").write_text("old only")


def test_a_new_folder_appears_whole(tmp_path):
    out = tmp_path / "deep" / "out"                                   # missing parents are created
    with atomic_folder(out) as tmp:
        assert tmp.parent == out.parent and tmp.name.startswith(".out.partial-") and tmp.is_dir()
        assert list(tmp.iterdir()) == [] and not out.exists()
        (tmp / "sub").mkdir()
        (tmp / "a.txt").write_text("new a")
        (tmp / "sub" / "b.txt").write_text("new b")
        assert not out.exists()                                       # nothing visible before the end
    assert tree(out) == {"a.txt": "new a", "sub/b.txt": "new b"}
    assert [p.name for p in out.parent.iterdir()] == ["out"]          # no temporary left
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask              # a folder's usual mode, not mkdtemp's 0700


def test_an_existing_folder_is_replaced_whole(tmp_path):
    out = tmp_path / "out"
    write_old(out)
    with atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("new a")
        assert tree(out) == {"a.txt": "old a", "sub/only_old.txt": "old only"}   # the old one until the end
    assert tree(out) == {"a.txt": "new a"}                            # not merged: old-only files are gone
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_an_exception_leaves_the_old_folder_and_no_temporary(tmp_path, error):
    out = tmp_path / "out"
    write_old(out)
    with pytest.raises(type(error)):
        with atomic_folder(out) as tmp:
            (tmp / "a.txt").write_text("half written")
            raise error
    assert tree(out) == {"a.txt": "old a", "sub/only_old.txt": "old only"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    with pytest.raises(RuntimeError):
        with atomic_folder(tmp_path / "new"):
            raise RuntimeError("before anything")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]            # no output, no temporary


def test_a_failed_final_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_old(out)
    real_replace = os.replace

    def replace(src, dst):
        if Path(src).name.startswith(".out.partial-"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr("mfd_model.outputs.os.replace", replace)
    with pytest.raises(OSError):
        with atomic_folder(out) as tmp:
            (tmp / "a.txt").write_text("new a")
    assert tree(out) == {"a.txt": "old a", "sub/only_old.txt": "old only"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_file_in_the_way_is_one_clear_error(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(MFDError, match="not a folder"):
        with atomic_folder(tmp_path / "out"):
            pass
    assert (tmp_path / "out").read_text() == "a file" and [p.name for p in tmp_path.iterdir()] == ["out"]
