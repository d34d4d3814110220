"""Exported Kipoi sources and the root default model, checked with Kipoi itself (kipoi 0.8.6).

One export per module (a small MFD model with spread-out weights + a baseline variant); the
Kipoi command line runs in subprocesses with HOME pointing at a temporary folder whose
~/.kipoi/config.yaml lists only local sources:

    mfdtest -> the exported source (MFD/pytorch, MFD/tensorflow, MFD/baseline/...)
    mfdroot -> a folder whose MFD is a link to the repository root (the default model)
"""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from conftest import requires_shared_data
from export_helpers import REPO, one_thread, run_cli, write_kipoi_config
from toy_models import toy_model_in

pytest.importorskip("kipoi")

HG19 = ("hg19_chr20", "ucsc.hg19.chr20.unittest.fasta.gz")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    yield from one_thread()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The exported source, the sandbox HOME with the Kipoi config, and the models."""
    root = tmp_path_factory.mktemp("kipoi")
    home = root / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        from mfd_model import save_model
        from mfd_model.cli import main

        model = toy_model_in(root / "mfd", seed=11)
        baseline = toy_model_in(root / "base", head="baseline", seed=12)
        save_model(model, root / "model.pt")
        save_model(baseline, root / "baseline.pt")
        src = root / "src"
        assert main(["export", str(root / "model.pt"), str(src), "--variant", f"baseline={root / 'baseline.pt'}"]) == 0
        rootsrc = root / "rootsrc"
        rootsrc.mkdir()
        (rootsrc / "MFD").symlink_to(REPO, target_is_directory=True)
        write_kipoi_config(home, {"mfdtest": src, "mfdroot": rootsrc})
        yield {"root": root, "home": home, "src": src, "rootsrc": rootsrc, "model": model, "baseline": baseline}


@pytest.fixture(scope="module")
def hg19_bed(env):
    """Real intervals: ENCODE peaks in the real window of chr20, plus intervals in its N region."""
    peaks_dir = requires_shared_data(*HG19).parent / "peaks"
    rows = []
    for path in sorted(peaks_dir.glob("*Peak.gz")):
        with gzip.open(path, "rt") as handle:
            for line in handle:
                f = line.split("\t")
                if f[0] == "chr20" and 10_000_000 < int(f[1]) < 11_090_000:
                    rows.append((f[0], int(f[1]), int(f[2])))
    rows += [("chr20", s, s + 300) for s in range(20_000_000, 20_030_000, 3000)]  # all-N windows
    rows += [("chr20", 10_995_000 - 600, 10_995_000 + 100)]  # window straddling real sequence and N
    bed = env["root"] / "hg19.bed"
    bed.write_text("".join(f"{c}\t{s}\t{e}\n" for c, s, e in rows))
    assert len(rows) > 100
    return bed


def _read_kipoi_tsv(path: Path) -> np.ndarray:
    """kipoi's TSV writer orders the columns as text (preds/0, preds/1, preds/10, ...): restore the output order."""
    frame = pd.read_csv(path, sep="\t")
    columns = sorted((c for c in frame.columns if c.startswith("preds/")), key=lambda c: int(c.split("/")[1]))
    return frame[columns].to_numpy(np.float64)


def _read_mfd_tsv(path: Path, experiments: list[str]) -> np.ndarray:
    return pd.read_csv(path, sep="\t")[experiments].to_numpy(np.float64)


# ----------------------------------------------------------------------------- the written source
def test_source_layout_and_model_yaml(env):
    variants = {"MFD/pytorch": "pytorch", "MFD/tensorflow": "tensorflow2",
                "MFD/baseline/pytorch": "pytorch", "MFD/baseline/tensorflow": "tensorflow2"}
    for name, kind in variants.items():
        folder = env["src"] / name
        desc = yaml.safe_load((folder / "model.yaml").read_text())
        assert desc["type"] == kind
        dl = desc["default_dataloader"]
        assert dl["defined_as"] == "kipoiseq.dataloaders.SeqIntervalDl"  # exactly, as kipoi-veff2 requires
        assert dl["default_args"]["auto_resize_len"] == 1152
        assert dl["default_args"]["alphabet_axis"] == 0 and dl["default_args"]["dtype"] == "np.float32"
        model = env["baseline"] if "baseline" in name else env["model"]
        assert desc["schema"]["targets"]["shape"] == f"({model.n_experiments},)"
        labels = (folder / desc["schema"]["targets"]["column_labels"][0]).read_text().splitlines()
        assert labels == model.experiment_names
        assert desc["info"]["trained_on"] == "toy weights for tests"
        for example in ("intervals.bed", "sequence.fa", "sequence.fa.fai", "variants.vcf"):
            assert (folder / "example_files" / example).stat().st_size > 0
        assert (folder / desc["test"]["expect"]).exists()
    args = yaml.safe_load((env["src"] / "MFD/pytorch/model.yaml").read_text())["args"]
    from mfd_model.kipoi_folder import file_md5
    assert args["module_kwargs"]["weights_md5"] == file_md5(env["src"] / "MFD/pytorch" / args["weights"])
    assert not list(env["src"].glob(".*")), "no temporary folders left behind"


def test_example_vcf_matches_the_fasta(env):
    from mfd_model.genome import Genome
    folder = env["src"] / "MFD/pytorch/example_files"
    genome = Genome(folder / "sequence.fa")
    records = [line.split("\t") for line in (folder / "variants.vcf").read_text().splitlines()
               if not line.startswith("#")]
    assert records
    for chrom, pos, _, ref, alt, *_ in records:
        assert genome.fetch(chrom, int(pos) - 1, int(pos)) == ref != alt


def test_load_model_reads_exported_folders(env):
    from mfd_model import MFDError, load_model
    x = torch.from_numpy(np.random.default_rng(0).random((3, 4, 1152)).round().astype(np.float32))
    with torch.no_grad():
        expected = env["model"](x)
        for folder in (env["src"] / "MFD/pytorch", env["src"] / "MFD", env["src"]):
            torch.testing.assert_close(load_model(folder)(x), expected, rtol=0, atol=0)
    with pytest.raises(MFDError, match="tensorflow2.*PyTorch variant.*MFD/pytorch"):
        load_model(env["src"] / "MFD/tensorflow")
    with pytest.raises(MFDError, match="not a Kipoi model folder"):
        load_model(env["root"] / "home")


# ----------------------------------------------------------------------------- kipoi test
@pytest.mark.parametrize("variant", ["MFD/pytorch", "MFD/tensorflow", "MFD/baseline/pytorch"])
def test_kipoi_test_passes_on_exported_variants(env, variant):
    # kipoi 0.8.6 resolves test.expect against the working directory: run it from the model folder
    done = run_cli(["kipoi", "test", variant, "--source", "mfdtest"], env["home"], cwd=env["src"] / variant)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "All predictions match" in done.stdout


def test_kipoi_test_passes_on_the_root_model(env):
    done = run_cli(["kipoi", "test", "MFD", "--source", "mfdroot"], env["home"], cwd=REPO)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "All predictions match" in done.stdout


def test_kipoi_test_compares_numbers(env):
    """The expect file is really checked: altered expected predictions make kipoi test fail."""
    import h5py
    folder = env["root"] / "altered"
    shutil.copytree(env["src"] / "MFD/pytorch", folder)
    with h5py.File(folder / "test_expect.h5", "r+") as handle:
        handle["preds"][0, 0] += 1e-3
    done = run_cli(["kipoi", "test", "."], env["home"], cwd=folder)
    assert done.returncode == 1 and "don't match the expected predictions" in done.stdout


# ----------------------------------------------------------------------------- kipoi predict / get_model
def test_kipoi_predict_equals_mfd_predict(env, hg19_bed):
    fasta = requires_shared_data(*HG19)
    args = json.dumps({"intervals_file": str(hg19_bed), "fasta_file": str(fasta)})
    kipoi_out = env["root"] / "kipoi_pred.tsv"
    done = run_cli(["kipoi", "predict", "MFD/pytorch", "--source", "mfdtest", "--dataloader_args", args,
                    "-o", str(kipoi_out)], env["home"], cwd=env["root"])
    assert done.returncode == 0, done.stdout[-2000:]
    from mfd_model.cli import main
    mfd_out = env["root"] / "mfd_pred.tsv"
    assert main(["predict", str(hg19_bed), str(fasta), str(mfd_out), "-m", str(env["src"] / "MFD/pytorch"),
                 "--no-progress"]) == 0
    ours = _read_mfd_tsv(mfd_out, env["model"].experiment_names)
    theirs = _read_kipoi_tsv(kipoi_out)
    assert ours.shape == theirs.shape == (len(hg19_bed.read_text().splitlines()), env["model"].n_experiments)
    assert ours.std() > 0.05  # the toy model's outputs vary between intervals
    # the same windows and weights; mfd predict's channels-last CPU path differs by float32 rounding
    np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=0)


def test_kipoi_predict_root_model_on_its_example(env):
    example = REPO / "mfd_model/default_model/example_files"
    args = json.dumps({"intervals_file": str(example / "intervals.bed"), "fasta_file": str(example / "sequence.fa")})
    out = env["root"] / "root_pred.tsv"
    done = run_cli(["kipoi", "predict", "MFD", "--source", "mfdroot", "--dataloader_args", args, "-o", str(out)],
                   env["home"], cwd=env["root"])
    assert done.returncode == 0, done.stdout[-2000:]
    import h5py
    with h5py.File(REPO / "mfd_model/default_model/test_expect.h5") as handle:
        expected = handle["preds"][:]
    np.testing.assert_allclose(_read_kipoi_tsv(out), expected, atol=2e-6, rtol=0)


def test_get_model_pipeline(env, hg19_bed):
    """kipoi.get_model(...).pipeline.predict for the root model and the TensorFlow variant."""
    import kipoi
    from kipoi.sources import LocalSource

    from mfd_model import load_model
    from mfd_model.inference.intervals import predict_intervals

    fasta = str(requires_shared_data(*HG19))
    kwargs = {"intervals_file": str(hg19_bed), "fasta_file": fasta}
    root_model = kipoi.get_model("MFD", source=LocalSource(str(env["rootsrc"])))
    expected = predict_intervals(load_model(None), hg19_bed, fasta, progress=False).probabilities
    np.testing.assert_allclose(root_model.pipeline.predict(kwargs, batch_size=64), expected, atol=1e-5, rtol=0)

    tf_model = kipoi.get_model("MFD/tensorflow", source=LocalSource(str(env["src"])))
    expected = predict_intervals(env["model"], hg19_bed, fasta, progress=False).probabilities
    np.testing.assert_allclose(tf_model.pipeline.predict(kwargs, batch_size=64), expected, atol=1e-5, rtol=0)


# ----------------------------------------------------------------------------- the root default model
def test_root_model_is_consistent():
    from mfd_model import load_model
    from mfd_model.kipoi_folder import file_md5
    import h5py

    desc = yaml.safe_load((REPO / "model.yaml").read_text())
    assert desc["type"] == "pytorch"
    assert desc["default_dataloader"]["defined_as"] == "kipoiseq.dataloaders.SeqIntervalDl"
    weights = REPO / desc["args"]["weights"]
    assert desc["args"]["module_kwargs"]["weights_md5"] == file_md5(weights)
    assert (REPO / "kipoi_model.py").read_text() == (REPO / "export/kipoi_model.py").read_text()
    model = load_model(None)
    assert desc["info"]["trained_on"] == model.info["trained_on"]
    if model.info.get("untrained"):
        assert "UNTRAINED" in desc["info"]["doc"]
    with h5py.File(REPO / desc["test"]["expect"]) as handle:
        with torch.no_grad():
            preds = model(torch.from_numpy(handle["inputs"][:])).numpy()
        np.testing.assert_allclose(preds, handle["preds"][:], atol=1e-6, rtol=0)
    zeros = torch.zeros(1, 4, model.config.seq_len)
    torch.testing.assert_close(load_model(REPO)(zeros), model(zeros))


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_is_bit_for_bit_reproducible(env, tmp_path):
    """Same model and seed -> byte-identical folders (what lets `make demo` rebuild the committed files)."""
    from mfd_model.export.kipoi_source import export_source, write_root_model

    for out in ("a", "b"):
        export_source({"": env["model"]}, tmp_path / out, kinds=("pytorch",), log=lambda _: None)
        repo = tmp_path / f"repo_{out}"
        (repo / "mfd_model").mkdir(parents=True)
        (repo / "mfd_model" / "__init__.py").touch()
        (repo / "pyproject.toml").touch()
        write_root_model(env["model"], repo)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert _tree(tmp_path / "repo_a") == _tree(tmp_path / "repo_b")
    assert {"model.yaml", "kipoi_model.py", "mfd_model/default_model/weights.pth",
            "mfd_model/default_model/example_files/sequence.fa"} <= set(_tree(tmp_path / "repo_a"))


# ----------------------------------------------------------------------------- bad input
def test_corrupt_weights_are_one_clear_error(env, tmp_path, capsys):
    from mfd_model import MFDError, load_model
    from mfd_model.cli import main

    folder = tmp_path / "pytorch"
    shutil.copytree(env["src"] / "MFD/pytorch", folder)
    data = (folder / "weights.pth").read_bytes()
    (folder / "weights.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(MFDError, match="corrupt or replaced"):
        load_model(folder)
    import kipoi
    from kipoi.sources import LocalSource
    (tmp_path / "MFD").symlink_to(folder)
    with pytest.raises(MFDError, match="corrupt or replaced"):
        kipoi.get_model("MFD", source=LocalSource(str(tmp_path)), with_dataloader=False)
    # without the recorded MD5 the unreadable file is still one clear error
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    assert main(["export", str(tmp_path / "truncated.pt"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "corrupt, truncated or not a PyTorch file" in err[0]
    assert not (tmp_path / "out" / "MFD").exists()


def test_wrong_architecture_is_one_clear_error(env, tmp_path, capsys):
    from mfd_model import MFDError, load_model
    from mfd_model.cli import main
    from mfd_model.model_io import FORMAT, model_spec

    other = toy_model_in(tmp_path / "wide", channels=12, latent_dim=16)
    torch.save({"format": FORMAT, "spec": model_spec(env["model"]), "state_dict": other.state_dict()},
               tmp_path / "wrong.pt")
    with pytest.raises(MFDError, match="weights do not fit the model architecture"):
        load_model(tmp_path / "wrong.pt")
    assert main(["export", str(tmp_path / "wrong.pt"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "weights do not fit the model architecture" in err[0]


def test_existing_output_needs_force_and_failures_leave_nothing(env, tmp_path, monkeypatch):
    from mfd_model import MFDError
    from mfd_model.export import kipoi_source

    kipoi_source.export_source({"": env["model"]}, tmp_path, kinds=("pytorch",), log=lambda _: None)
    with pytest.raises(MFDError, match="already exists.*--force"):
        kipoi_source.export_source({"": env["model"]}, tmp_path, kinds=("pytorch",), log=lambda _: None)
    before = (tmp_path / "MFD/pytorch/weights.pth").read_bytes()

    def broken(*args, **kwargs):
        raise MFDError("simulated failure half way")
    monkeypatch.setattr(kipoi_source, "write_tensorflow_variant", broken)
    with pytest.raises(MFDError, match="simulated failure"):
        kipoi_source.export_source({"": env["baseline"]}, tmp_path, force=True, log=lambda _: None)
    assert (tmp_path / "MFD/pytorch/weights.pth").read_bytes() == before  # the old source is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MFD"]  # no partial folders


def test_export_check_prints_the_differences(env, tmp_path, capsys):
    from mfd_model.cli import main
    fasta = requires_shared_data("hg38_chr1_1mb", "hg38_1m.fa.gz")
    assert main(["export", str(env["root"] / "model.pt"), str(tmp_path), "--only", "tensorflow",
                 "--check-fasta", str(fasta), "--check-windows", "200"]) == 0
    out = capsys.readouterr().out
    assert "random sequence: 200 windows" in out and "hg38_1m.fa.gz: 200 windows" in out
    assert out.count(": ok") == 2 and "FAILED" not in out
    assert not (tmp_path / "MFD/pytorch").exists() and (tmp_path / "MFD/tensorflow/savedmodel").exists()
