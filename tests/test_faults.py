"""Nothing lost under faults: every failure class ends as one line, exit status 2, no output left.

One test per class: an output that is an input, a full disk (score-variants, and the memory-mapped
result of predict), a read-only FASTA folder, bytes that are not UTF-8, a position past 2^63, a
ragged table row, a device the machine lacks, a closed output pipe; and the one-line form of
each system failure. Signals: tests/test_processes.py. Reader fuzzing: tests/test_readers_property.py.
"""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mfd_model.cli import main
from mfd_model.errors import MFDError, as_mfd_error
from mfd_model.model_io import save_model

from toy_models import tiny_model
from variant_helpers import one_thread, random_genome, read_tsv, variant_lines, write_fasta, write_vcf


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture
def files(toy_paths, tmp_path):
    """A FASTA, a VCF, a BED and a tiny model file (120 bp windows), all in tmp_path / "in"."""
    folder = tmp_path / "in"
    folder.mkdir()
    genome = random_genome()
    fasta = write_fasta(folder / "genome.fa", genome)
    vcf = write_vcf(folder / "variants.vcf", variant_lines(genome))
    bed = folder / "peaks.bed"
    bed.write_text("".join(f"chr1\t{s}\t{s + 50}\tp{s}\n" for s in range(200, 2800, 100)))
    model = save_model(tiny_model(toy_paths, dtype=torch.float32), folder / "model.pt")
    return {"fasta": fasta, "vcf": vcf, "bed": bed, "model": model, "genome": genome}


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _score(files, out, *extra) -> int:
    return main(["score-variants", str(files["vcf"]), str(files["fasta"]), str(out), "-m", str(files["model"]),
                 "-q", "--workers", "0", *map(str, extra)])


# ---------------------------------------------------------------------------- 1. an output that is an input
@pytest.mark.parametrize("how", ["same path", "symlink", "hard link", "--rejects"])
def test_an_output_that_is_an_input_is_refused(files, tmp_path, capsys, how):
    vcf = files["vcf"]
    before = vcf.read_bytes()
    if how == "same path":
        args = [vcf]
    elif how == "symlink":
        (tmp_path / "alias.vcf").symlink_to(vcf)
        args = [tmp_path / "alias.vcf"]
    elif how == "hard link":
        os.link(vcf, tmp_path / "other.vcf")
        args = [tmp_path / "other.vcf"]
    else:
        args = [tmp_path / "out.tsv", "--rejects", files["fasta"]]
    assert _score(files, *args) == 2
    line = _one_line(capsys)
    assert "the output is also an input" in line and "fix: write the output to another path" in line
    assert vcf.read_bytes() == before
    assert not list(tmp_path.glob("out*")) and not list(files["vcf"].parent.glob(".*"))


def test_predict_refuses_to_overwrite_its_bed(files, capsys):
    bed = files["bed"].rename(files["bed"].with_suffix(".tsv"))   # a BED named like a TSV output
    before = bed.read_bytes()
    assert main(["predict", str(bed), str(files["fasta"]), str(bed), "-m", str(files["model"])]) == 2
    assert "the output is also an input" in _one_line(capsys)
    assert bed.read_bytes() == before


# ---------------------------------------------------------------------------- 2. a full disk
def test_full_disk_while_scoring_is_one_line_and_leaves_nothing(files, tmp_path, capsys, monkeypatch):
    from mfd_model.variants import score_writers as outputs
    original, calls = outputs.TsvWriter.write, {"n": 0}

    def write(self, chunk, values):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, chunk, values)

    monkeypatch.setattr(outputs.TsvWriter, "write", write)
    out = tmp_path / "out" / "scores.tsv"
    assert _score(files, out, "--chunk-size", "2", "--vcf-out", str(tmp_path / "out" / "scores.vcf.gz")) == 2
    line = _one_line(capsys)
    assert line.startswith(f"mfd score-variants: error: {out}: no space left on the device (fix: free disk space")
    assert _listing(tmp_path / "out") == []


def test_full_disk_under_predicts_memory_map_is_one_line_not_sigbus(files, tmp_path, capsys, monkeypatch):
    def no_space(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_space)
    out = tmp_path / "out" / "pred.tsv"
    assert main(["predict", str(files["bed"]), str(files["fasta"]), str(out), "-m", str(files["model"]),
                 "--no-progress"]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "probabilities.npy: no space left on the device" in line
    assert _listing(tmp_path / "out") == []          # no hidden work folder either


def _tiny_tmpfs(path: Path) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


def test_a_really_full_disk(files, tmp_path):
    """On a 64 kB tmpfs (root only): no SIGBUS, no traceback, nothing left; skipped where mounting is not allowed."""
    disk = tmp_path / "disk"
    if not _tiny_tmpfs(disk):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        many = tmp_path / "many.bed"
        many.write_text("".join(f"chr1\t{200 + k % 2500}\t{300 + k % 2500}\tp{k}\n" for k in range(4_000)))
        chr1 = files["genome"]["chr1"].upper()
        snvs = [f"chr1\t{p}\t.\t{chr1[p - 1]}\t{'C' if chr1[p - 1] == 'A' else 'A'}\t.\t.\t." for p in range(100, 700)]
        vcf = write_vcf(tmp_path / "many.vcf", snvs)
        for argv in (["predict", str(many), str(files["fasta"]), str(disk / "pred.tsv"), "--no-progress"],
                     ["score-variants", str(vcf), str(files["fasta"]), str(disk / "s.tsv"), "-q"]):
            done = subprocess.run([sys.executable, "-m", "mfd_model", *argv, "-m", str(files["model"])],
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 2, done.stderr[-2000:]
            assert done.stderr.strip().splitlines()[-1].endswith(
                "no space left on the device (fix: free disk space, or write the outputs to another disk)")
            assert "Traceback" not in done.stderr and _listing(disk) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


# ---------------------------------------------------------------------------- 4. a read-only FASTA folder
def test_fasta_in_a_read_only_folder_is_indexed_in_the_cache(files, tmp_path, capsys, monkeypatch):
    import pyfaidx

    folder = files["fasta"].parent
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    fasta = Path(shutil.copy(files["fasta"], readonly / "genome.fa"))
    readonly.chmod(0o555)

    if os.geteuid() == 0:  # root ignores the folder's mode: pyfaidx sees a read-only file system instead
        real_open = open

        def read_only_open(file, mode="r", *args, **kwargs):
            if Path(file).parent == readonly and any(c in mode for c in "wax+"):
                raise OSError(errno.EROFS, "Read-only file system", str(file))
            return real_open(file, mode, *args, **kwargs)

        monkeypatch.setattr(pyfaidx, "open", read_only_open, raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    try:
        out = tmp_path / "out.tsv"
        assert main(["score-variants", str(files["vcf"]), str(fasta), str(out), "-m", str(files["model"]), "-q",
                     "--workers", "0"]) == 0
        reference = tmp_path / "reference.tsv"
        assert _score(files, reference) == 0
        assert out.read_text() == reference.read_text()
        assert sorted(p.name for p in readonly.iterdir()) == ["genome.fa"]        # nothing written next to it
        assert [p.name for p in (cache / "mfd" / "fasta-index").iterdir()][0].endswith(".genome.fa.fai")
    finally:
        readonly.chmod(0o755)
    assert folder.exists()


# ---------------------------------------------------------------------------- 5 and 6. odd bytes and huge positions
def test_non_utf8_id_and_a_position_past_2_63_are_accounted_for(files, tmp_path, capsys):
    lines = variant_lines(files["genome"])
    fields = lines[0].split("\t")
    odd = "\t".join([fields[0], fields[1], "id\udcff\udcfe", *fields[3:]])
    huge = "\t".join([fields[0], str(2**63), "huge", *fields[3:]])
    vcf = tmp_path / "odd.vcf"
    vcf.write_bytes("".join(f"{l}\n" for l in [*open(files["vcf"]).read().splitlines()[:5], odd, huge, *lines[1:]])
                    .encode("utf-8", "surrogateescape"))
    out, annotated = tmp_path / "out.tsv", tmp_path / "out.vcf"
    assert main(["score-variants", str(vcf), str(files["fasta"]), str(out), "-m", str(files["model"]), "-q",
                 "--workers", "0", "--vcf-out", str(annotated)]) == 0
    report = capsys.readouterr().out
    scored, rejects = read_tsv(out), read_tsv(tmp_path / "out.rejects.tsv")
    assert r"id\xff\xfe" in list(scored["ID"])                              # escaped, and scored
    assert b"\tid\xff\xfe\t" in annotated.read_bytes()                       # the original bytes kept
    assert list(rejects["ID"]) == ["huge"] and "larger than any contig" in rejects["DETAIL"][0]
    alleles = len(lines) + 1 + sum(l.split("\t")[4].count(",") for l in lines)
    assert f"{alleles} alleles: {len(scored)} scored, 1 rejected" in report


# ---------------------------------------------------------------------------- 7. ragged tables
def test_ragged_metadata_row_is_refused_with_its_line(toy_paths, tmp_path, capsys):
    from mfd_model import load_metadata
    table, schema = toy_paths
    rows = table.read_text().splitlines()
    rows[3] = "\t".join(rows[3].split("\t")[:5])          # 5 of 8 fields on line 4
    table.write_text("\n".join(rows) + "\n")
    with pytest.raises(MFDError) as caught:
        load_metadata(table, schema)
    assert caught.value.line == 4 and "row has 5 field(s), the header has 8" in str(caught.value)
    rows[3] = rows[3] + "\tx\ty\tz\textra"              # 9 of 8
    table.write_text("\n".join(rows) + "\n")
    with pytest.raises(MFDError, match="row has 9 field"):
        load_metadata(table, schema)
    assert main(["describe", "--metadata", str(table), "--schema", str(schema)]) == 2
    assert ":4: metadata table row has 9 field(s)" in _one_line(capsys)


@pytest.mark.parametrize("reader", ["truth", "labels"])
def test_ragged_truth_and_label_tables_are_refused(tmp_path, reader):
    from mfd_model.evaluate.disentanglement import read_truth_bins
    from mfd_model.evaluate.variant_io import read_tsv_labels
    path = tmp_path / "table.tsv"
    if reader == "truth":
        path.write_text("chrom\tstart\tend\tgc\tbias\nchr1\t0\t128\t0.5\t1\n\nchr1\t128\t256\t0.4\n")
        call = lambda: read_truth_bins(path)   # noqa: E731
    else:
        path.write_text("id\tlabel\nv1\tcausal\nv2\n")
        call = lambda: read_tsv_labels(path)   # noqa: E731
    with pytest.raises(MFDError) as caught:
        call()
    assert caught.value.line == (4 if reader == "truth" else 3) and "field(s), the header has" in str(caught.value)


# ---------------------------------------------------------------------------- 8. a device the machine lacks
def test_a_missing_device_is_one_line(files, tmp_path, capsys):
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count > 7:
        pytest.skip("this machine has a cuda:7")
    assert _score(files, tmp_path / "out.tsv", "--device", "cuda:7") == 2
    assert "device 'cuda:7' asked for" in _one_line(capsys)
    assert main(["predict", str(files["bed"]), str(files["fasta"]), str(tmp_path / "p.tsv"), "--device", "tpu:3",
                 "-m", str(files["model"])]) == 2
    assert "unknown device 'tpu:3'" in _one_line(capsys)
    assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob("p.*")) and not list(tmp_path.glob(".*"))


def test_an_accelerator_the_machine_lacks_is_one_line(files, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert _score(files, tmp_path / "out.tsv", "--devices", "2", "--accelerator", "gpu") == 2
    assert "cannot score on 2 device(s) of accelerator 'gpu'" in _one_line(capsys)
    assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob(".out*"))


# ---------------------------------------------------------------------------- 9. a closed output pipe
def test_scores_to_a_closed_pipe_end_in_one_line(files, tmp_path):
    rejects = tmp_path / "rejects.tsv"
    process = subprocess.Popen([sys.executable, "-m", "mfd_model", "score-variants", str(files["vcf"]),
                                str(files["fasta"]), "/dev/stdout", "--rejects", str(rejects), "-m",
                                str(files["model"]), "-q", "--workers", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()                                  # the reader is gone (as after `| head -1`)
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 2
    assert stderr.strip().splitlines() == [
        "mfd score-variants: error: /dev/stdout: the output was closed before everything was written (broken pipe) "
        "(fix: let the reader take the whole output, or write it to a file)"]
    assert not rejects.exists() and not list(tmp_path.glob(".rejects*"))


def test_scores_stream_to_stdout_and_the_summary_to_stderr(files, tmp_path):
    done = subprocess.run([sys.executable, "-m", "mfd_model", "score-variants", str(files["vcf"]), str(files["fasta"]),
                           "/dev/stdout", "--rejects", str(tmp_path / "r.tsv"), "-m", str(files["model"]), "-q",
                           "--workers", "0", "--threads", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("#CHROM\tPOS") and "records," not in done.stdout and "records," in done.stderr
    reference = tmp_path / "reference.tsv"
    assert _score(files, reference) == 0
    assert done.stdout == reference.read_text()


# ---------------------------------------------------------------------------- the one-line form of each failure
@pytest.mark.parametrize("error, expected", [
    (OSError(errno.ENOSPC, "No space left on device", "out.tsv"), "out.tsv: no space left on the device (fix:"),
    (BrokenPipeError(errno.EPIPE, "Broken pipe"), "the output was closed before everything was written"),
    (PermissionError(errno.EACCES, "Permission denied", "/root/x"), "/root/x: permission denied (fix:"),
    (OSError(errno.ENODEV, "No such device", "/dev/nst0"), "/dev/nst0: no such device"),
    (OSError(errno.EIO, "Input/output error"), "input/output error (fix: check the disk"),
    (b"\xff".decode("utf-8", "replace") and UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
     "text that is not valid UTF-8 (invalid start byte at byte 0)"),
    (OverflowError("Python int too large to convert to C long"), "a number is too large"),
    (MemoryError(), "out of memory (fix:"),
])
def test_system_failures_read_as_one_line(error, expected):
    failure = as_mfd_error(error)
    assert failure is not None and expected in failure.one_line() and "\n" not in failure.one_line()


def test_a_bug_is_not_dressed_up_as_an_input_error():
    assert as_mfd_error(KeyError("x")) is None and as_mfd_error(RuntimeError("x")) is None
