"""Shared fixtures: the toy metadata files, a small configuration and model (all from tests/toy_models.py)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from toy_models import SMALL, TOY_SCHEMA, TOY_TABLE

# Saved predictions are compared at this absolute tolerance: float32 convolutions sum in an order
# that depends on the CPU's kernels, and the legacy toy model's predictions (tests/data/legacy)
# moved by 5.6e-6 between two CPUs of this project's machines. A 1 % change of any one of that
# model's 126 tensors moves them by 5.7e-5 or more, so this still catches a weight loaded wrongly.
SAVED_PREDICTIONS_ATOL = 2e-5

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _deterministic() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch) -> None:
    """Never touch the real home (kipoi writes ~/.kipoi/config.yaml on import)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture
def toy_paths(tmp_path: Path) -> tuple[Path, Path]:
    table = tmp_path / "metadata.tsv"
    schema = tmp_path / "schema.yaml"
    table.write_text(TOY_TABLE)
    schema.write_text(TOY_SCHEMA)
    return table, schema


@pytest.fixture
def small_config():
    from mfd_model import ModelConfig
    return ModelConfig(**SMALL)


@pytest.fixture
def toy_model(toy_paths, small_config):
    from mfd_model import MFDModel, load_metadata
    table, encoder, _ = load_metadata(*toy_paths)
    return MFDModel(small_config, table.experiment_names(encoder.schema), encoder=encoder, table=table).eval()


def requires_shared_data(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data not present: {path}")
    return path


# --------------------------------------------------------------------------- tiny training data
TINY_MOTIF = "TTGACGTCAA"


def write_tiny_dataset(root: Path, seed: int = 0, n_chrom: int = 2, chrom_len: int = 24_000) -> dict[str, Path]:
    """A random genome with a planted motif and three experiments: two see the motif
    (biological signal), one calls GC-rich bins (a technical artefact). Returns the paths."""
    import numpy as np
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    fasta, lines = root / "genome.fa", []
    motif_bins, gc_bins = {}, {}
    for c in range(1, n_chrom + 1):
        seq = rng.choice(list("ACGT"), size=chrom_len, p=[0.3, 0.2, 0.2, 0.3])
        seq[:300] = "N"
        bins = np.arange(3, chrom_len // 128 - 1)
        planted = rng.choice(bins, size=len(bins) // 4, replace=False)
        for b in planted:
            pos = b * 128 + 59
            seq[pos:pos + len(TINY_MOTIF)] = list(TINY_MOTIF)
        gc = rng.choice(np.setdiff1d(bins, planted), size=len(bins) // 6, replace=False)
        for b in gc:
            seq[b * 128 + 20:b * 128 + 108] = rng.choice(list("GC"), size=88)
        motif_bins[f"chr{c}"], gc_bins[f"chr{c}"] = planted, gc
        lines.append(f">chr{c}")
        text = "".join(seq)
        lines += [text[i:i + 60] for i in range(0, len(text), 60)]
    fasta.write_text("\n".join(lines) + "\n")
    peaks = root / "peaks"
    peaks.mkdir(exist_ok=True)
    experiments = [("motif_a", "TF1", "K562", "ChIP-seq", "LabA", "2012", motif_bins),
                   ("motif_b", "TF1", "HepG2", "ChIP-seq", "LabB", "2016", motif_bins),
                   ("gc_artefact", "Accessible DNA", "K562", "DNase-seq", "LabC", "2010", gc_bins)]
    rows = ["experiment\ttarget\ttissue\tassay\tlab\trelease_year\tpeak_file"]
    for name, target, tissue, assay, lab, year, where in experiments:
        with open(peaks / f"{name}.bed", "w") as handle:
            for chrom, bins in where.items():
                for b in sorted(bins):
                    if rng.random() < 0.9:
                        handle.write(f"{chrom}\t{b * 128 + 10}\t{b * 128 + 118}\t{name}_{b}\t0\t.\n")
        rows.append(f"{name}\t{target}\t{tissue}\t{assay}\t{lab}\t{year}\tpeaks/{name}.bed")
    (root / "metadata.tsv").write_text("\n".join(rows) + "\n")
    (root / "schema.yaml").write_text(
        "id_column: experiment\n"
        "biological:\n  direct: [{column: target}]\n  interact: [{column: tissue}]\n"
        "technical:\n  direct: [{column: assay}]\n  interact: [{column: lab}, {column: release_year, type: year}]\n")
    return {"fasta": fasta, "metadata": root / "metadata.tsv", "schema": root / "schema.yaml", "root": root}


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory) -> dict[str, Path]:
    """The tiny data set run through `prepare_labels` (chr2 = test chromosome)."""
    from mfd_model.train.prepare import PrepareParams, prepare_labels
    paths = write_tiny_dataset(tmp_path_factory.mktemp("tiny"))
    store = paths["root"] / "labels"
    prepare_labels(PrepareParams(fasta=str(paths["fasta"]), metadata=str(paths["metadata"]), store=str(store),
                                 test_chromosomes=("chr2",), valid_fraction=0.2, valid_block_bins=10),
                   progress=False)
    return {**paths, "store": store}


def tiny_train_config(paths: dict[str, Path], output: Path, **training) -> Path:
    """A training config for the tiny store (small model, 2 epochs, no workers)."""
    import yaml
    config = {
        "data": {"store": str(paths["store"])},
        "schema": str(paths["schema"]),
        "model": {"channels": 8, "latent_dim": 12, "interact_hidden": 8, "adversary_hidden": 16,
                  "adversary_layers": 2},
        "training": {"lambda_indep": 0.01, "batch_size": 32, "max_epochs": 2, "num_workers": 0,
                     "accelerator": "cpu", "devices": 1, "seed": 0, "log_every_n_steps": 1, **training},
        "output": str(output),
    }
    path = output.parent / f"{output.name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


# --------------------------------------------------------------------------- crossed biology x technique
# Two planted signals with the same base composition (50 % GC) and no dinucleotide in common, so
# no composition feature reveals one through the other; both are quick to learn from dinucleotides.
CROSSED_MOTIF = "CACACACACACACACA"  # biology: bound by target TF1
CROSSED_KMER = "GAGAGAGAGAGAGAGA"   # technical: read as a peak by AssayA, whatever the target


def write_crossed_dataset(root: Path, seed: int = 0, n_chrom: int = 2, chrom_len: int = 64_000) -> dict[str, Path]:
    """The smallest data set where biology and technique are separable, in `mfd simulate`'s layout.

    Every bin independently holds the motif (p = 0.3) and/or the k-mer (p = 0.3). Experiments cross
    target {TF1, Control} with assay {AssayA, AssayB} (and two labs): a bin is called with
    p = 0.9 if (target TF1 and motif) or (assay AssayA and k-mer), else p = 0.03. The biological
    metadata can only explain the motif, the technical metadata only the k-mer.
    ``truth/bins.tsv.gz`` records ``biology`` (motif) and ``kmer_AssayA`` per bin.
    """
    import gzip
    import numpy as np
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "truth").mkdir(exist_ok=True)
    fasta_lines, truth = [], ["chrom\tstart\tend\tbiology\tkmer_AssayA"]
    calls: dict[str, list[tuple[str, int]]] = {}
    experiments = [(f"{t}_{a}_{lab}", t, a, lab) for t in ("TF1", "Control") for a in ("AssayA", "AssayB")
                   for lab in ("Lab1", "Lab2")]
    for c in range(1, n_chrom + 1):
        chrom = f"chr{c}"
        seq = rng.choice(list("ACGT"), size=chrom_len)
        n_bins = chrom_len // 128
        motif = rng.random(n_bins) < 0.3
        kmer = rng.random(n_bins) < 0.3
        motif[:3] = kmer[:3] = False
        seq[:384] = "N"
        for b in range(3, n_bins):
            if motif[b]:
                pos = b * 128 + rng.integers(4, 40)
                seq[pos:pos + len(CROSSED_MOTIF)] = list(CROSSED_MOTIF)
            if kmer[b]:
                pos = b * 128 + rng.integers(64, 110)
                seq[pos:pos + len(CROSSED_KMER)] = list(CROSSED_KMER)
            truth.append(f"{chrom}\t{b * 128}\t{b * 128 + 128}\t{int(motif[b])}\t{int(kmer[b])}")
        for name, target, assay, _ in experiments:
            signal = ((target == "TF1") & motif) | ((assay == "AssayA") & kmer)
            called = rng.random(n_bins) < np.where(signal, 0.9, 0.03)
            called[:3] = False
            calls.setdefault(name, []).extend((chrom, int(b)) for b in np.flatnonzero(called))
        fasta_lines.append(f">{chrom}")
        text = "".join(seq)
        fasta_lines += [text[i:i + 60] for i in range(0, len(text), 60)]
    (root / "genome.fa").write_text("\n".join(fasta_lines) + "\n")
    with gzip.open(root / "truth" / "bins.tsv.gz", "wt") as handle:
        handle.write("\n".join(truth) + "\n")
    (root / "peaks").mkdir(exist_ok=True)
    rows = ["experiment\ttarget\ttissue\tassay\tlab\tpeak_file"]
    for name, target, assay, lab in experiments:
        (root / "peaks" / f"{name}.bed").write_text("".join(f"{chrom}\t{b * 128 + 16}\t{b * 128 + 112}\n"
                                                           for chrom, b in calls[name]))
        rows.append(f"{name}\t{target}\tcell\t{assay}\t{lab}\tpeaks/{name}.bed")
    (root / "metadata.tsv").write_text("\n".join(rows) + "\n")
    (root / "schema.yaml").write_text(
        "id_column: experiment\n"
        "biological:\n  direct: [{column: target}]\n  interact: [{column: tissue}]\n"
        "technical:\n  direct: [{column: assay}]\n  interact: [{column: lab}]\n")
    return {"fasta": root / "genome.fa", "metadata": root / "metadata.tsv", "schema": root / "schema.yaml",
            "root": root}
