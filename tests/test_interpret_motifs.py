"""Motif analyses: filter-to-PWM on a hand-set first layer, MEME I/O, motif similarity,
global importance analysis, and the sequence edits they use; the analyses of ``mfd motifs filters``
and ``mfd motifs gia`` (filter_motifs, motif_importance) against their parts called by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from interpret_helpers import MOTIF, OTHER_MOTIF, detector_model, plant, random_one_hot, set_first_layer_motif
from toy_models import small_config
from mfd_model.encoding import ALPHABET
from mfd_model.errors import MFDError
from mfd_model.interpret.ersatz import (dinucleotide_shuffle, insert_motif, motif_one_hot, random_sequences,
                                        sample_motifs)
from mfd_model.interpret.filters import filter_motifs, filter_pwms
from mfd_model.interpret.gia import global_importance, motif_importance
from mfd_model.interpret.motifs import Motif, match_motifs, motif_similarity, read_meme, write_meme
from mfd_model.interpret.targets import Target
from mfd_model.model import MFDModel


def test_filter_pwm_recovers_a_planted_first_layer_motif():
    model = MFDModel(small_config(), ["a"]).eval()                   # other filters: random initial weights
    set_first_layer_motif(model, MOTIF, filter_index=2, strength=3.0)
    rng = np.random.default_rng(0)
    X = random_one_hot(60, model.config.seq_len, seed=1)
    starts = rng.integers(20, model.config.seq_len - 40, size=30)
    for n, s in enumerate(starts):                                   # the motif in half of the sequences
        X[n] = plant(X[n:n + 1], MOTIF, int(s))[0]
    motifs = filter_pwms(model, X, threshold=0.9, filters=[2, 0])
    found = motifs[0]
    assert found.name == "filter_2" and found.pwm.shape == (16, 4)   # k + 1 = 16 input bases
    # the filter reads x[i - 7 : i + 9]; its weights start at tap 0, so the motif fills window columns 0..7
    assert found.consensus[: len(MOTIF)] == MOTIF
    assert np.all(found.pwm[np.arange(len(MOTIF)), [ALPHABET.index(b) for b in MOTIF]] == 1.0)
    assert found.n_sites == 30                                       # exactly the planted sites pass 0.9 x max
    assert found.info["max_activation"] == pytest.approx(3.0, rel=1e-5)
    assert motifs[1].name == "filter_0"


def test_meme_round_trip_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    pwm = rng.dirichlet(np.ones(4), size=6)
    motifs = [Motif("m1", pwm, 12), Motif("m2", motif_one_hot("ACGT").T.astype(float), 3)]
    path = write_meme(motifs, tmp_path / "m.meme")
    back = read_meme(path)
    assert [m.name for m in back] == ["m1", "m2"] and [m.n_sites for m in back] == [12, 3]
    np.testing.assert_allclose(back[0].pwm, pwm, atol=1e-6)
    assert back[1].consensus == "ACGT"
    bad = tmp_path / "bad.meme"
    bad.write_text("MEME version 4\n\nMOTIF x\nletter-probability matrix: alength= 4 w= 2\n0.1 0.2 0.7\n0.25 0.25 0.25 0.25\n")
    with pytest.raises(MFDError, match=r"bad.meme:5: matrix row has 3 values"):
        read_meme(bad)
    with pytest.raises(MFDError, match="not found"):
        read_meme(tmp_path / "missing.meme")


def test_motif_similarity_finds_offsets_and_strands():
    a = motif_one_hot("TTGACTCAGG").T.astype(float)
    core = motif_one_hot("GACTCA").T.astype(float)
    sim, offset, strand = motif_similarity(a, core)
    assert sim == pytest.approx(1.0) and offset == 2 and strand == "+"
    rc = motif_one_hot("CCTGAGTCAA").T.astype(float)                 # reverse complement of a
    sim, _, strand = motif_similarity(rc, core)
    assert sim == pytest.approx(1.0) and strand == "-"
    table = match_motifs([Motif("q", a)], [Motif("other", motif_one_hot("CCCCCC").T.astype(float)), Motif("core", core)])
    assert table.loc[0, "best_match"] == "core"


def test_gia_detects_the_motif_only_for_the_model_that_reads_it():
    background = random_sequences(64, 288, gc=0.41, seed=0)
    motif = motif_one_hot(MOTIF)
    targets = [Target("unit", 0, "unit_0"), Target("output", 0, "detector")]
    reader = global_importance(detector_model(MOTIF), background, motif, targets, position=130)
    assert np.all(reader["effect"] > 1.0) and np.all(reader["p_value"] < 1e-6)
    assert np.all(reader["fraction_up"] == 1.0)
    # the reference: the paired differences computed by hand from direct model calls
    model = detector_model(MOTIF)
    with torch.no_grad():
        before = model.features(torch.as_tensor(background))[:, 0]
        after = model.features(torch.as_tensor(insert_motif(background, motif, 130)))[:, 0]
    assert reader.loc[0, "effect"] == pytest.approx(float((after - before).mean()), rel=1e-5)
    ignorer = global_importance(detector_model(OTHER_MOTIF), background, motif, targets, position=130)
    assert np.all(np.abs(ignorer["effect"]) < 1e-4) and np.all(ignorer["p_value"] > 0.05)


def test_sequence_edits():
    X = random_sequences(5, 200, gc=0.6, seed=1)
    assert X.sum() == 5 * 200 and abs(X[:, 1:3].mean() * 2 - 0.6) < 0.05
    shuffled = dinucleotide_shuffle(X, seed=2)
    for n in range(5):
        a, b = np.argmax(X[n], axis=0), np.argmax(shuffled[n], axis=0)
        count = lambda s: np.bincount(4 * s[:-1] + s[1:], minlength=16)  # noqa: E731
        assert np.array_equal(count(a), count(b)) and a[0] == b[0] and a[-1] == b[-1]
        assert not np.array_equal(a, b)
    inserted = insert_motif(X, motif_one_hot("ACGT"), np.array([0, 10, 20, 30, 196]))
    assert "".join(ALPHABET[i] for i in np.argmax(inserted[4, :, 196:], axis=0)) == "ACGT"
    assert np.array_equal(inserted[0, :, 4:], X[0, :, 4:])
    with pytest.raises(ValueError):
        insert_motif(X, motif_one_hot("ACGT"), 198)
    pwm = np.array([[0.9, 0.1, 0, 0], [0, 0, 0, 1.0]])
    draws = sample_motifs(pwm, 2000, seed=3)
    assert draws[:, 0, 0].mean() == pytest.approx(0.9, abs=0.03) and np.all(draws[:, 3, 1] == 1)


class ArrayWindows:
    """A stand-in for :class:`mfd_model.interpret.windows.Windows`: one-hot windows held in memory."""

    def __init__(self, X: np.ndarray) -> None:
        self.X = X

    def __len__(self) -> int:
        return len(self.X)

    def one_hot(self) -> np.ndarray:
        return self.X.copy()

    def skip_summary(self) -> str:
        return f"kept {len(self)} of {len(self)} intervals"


def _planted_filter_model() -> tuple[MFDModel, np.ndarray]:
    """A model whose first-layer filter 2 reads MOTIF, and 60 sequences, 30 of them with MOTIF."""
    model = MFDModel(small_config(), ["a"]).eval()
    set_first_layer_motif(model, MOTIF, filter_index=2, strength=3.0)
    X = random_one_hot(60, model.config.seq_len, seed=1)
    for n, s in enumerate(np.random.default_rng(0).integers(20, model.config.seq_len - 40, size=30)):
        X[n] = plant(X[n:n + 1], MOTIF, int(s))[0]
    return model, X


def test_filter_motifs_keeps_the_filters_with_sites_and_writes_itself(tmp_path):
    model, X = _planted_filter_model()
    known = [Motif("OTHER", motif_one_hot(OTHER_MOTIF).T.astype(float)), Motif("AP1", motif_one_hot(MOTIF).T.astype(float))]
    result = filter_motifs(model, ArrayWindows(X), threshold=0.9, min_sites=30, known=known)
    every = filter_pwms(model, X, threshold=0.9)
    assert [m.name for m in result.motifs] == [m.name for m in every]
    expected = sorted((m for m in every if m.n_sites >= 30), key=lambda m: -m.n_sites)
    assert [m.name for m in result.kept] == [m.name for m in expected] and "filter_2" in [m.name for m in expected]
    pd.testing.assert_frame_equal(result.table, match_motifs(expected, known))
    top = result.table.set_index("query").loc["filter_2"]
    assert top["best_match"] == "AP1" and top["similarity"] > 0.9
    assert result.summary() == f"kept 60 of 60 intervals; {len(expected)} of {len(every)} filters have >= 30 sites"
    out = tmp_path / "filters.meme"
    assert result.write(out) == [out, out.with_suffix(".png"), out.with_suffix(".tsv")]
    assert [m.name for m in read_meme(out)] == [m.name for m in expected]
    assert pd.read_csv(out.with_suffix(".tsv"), sep="\t")["query"].tolist() == result.table["query"].tolist()
    # without known motifs: the sites and information per filter; with no filter kept: nothing written
    plain = filter_motifs(model, ArrayWindows(X), threshold=0.9, min_sites=30)
    assert list(plain.table.columns) == ["query", "n_sites", "consensus", "information_bits"]
    assert plain.table["information_bits"].tolist() == pytest.approx([float(m.information().sum()) for m in expected])
    none = filter_motifs(model, ArrayWindows(X), threshold=0.9, min_sites=10 ** 6)
    with pytest.raises(MFDError, match="no filter reached --min-sites; nothing written"):
        none.write(tmp_path / "none.meme")
    assert not list(tmp_path.glob("none*")) and not list(tmp_path.glob(".none*"))


def test_motif_importance_is_global_importance_of_its_backgrounds_and_motif(tmp_path):
    model = detector_model(MOTIF)
    length = model.config.seq_len
    unit = [Target("unit", 0, "unit_0")]
    result = motif_importance(model, MOTIF, n_random=40, gc=0.5, position=130, units=["0"], seed=3)
    expected = global_importance(model, random_sequences(40, length, gc=0.5, seed=3), motif_one_hot(MOTIF), unit,
                                 position=130)
    pd.testing.assert_frame_equal(result.table, expected.assign(motif=MOTIF)[["motif", *expected.columns]])
    assert result.summary() == f"{MOTIF} ({len(MOTIF)} bp) inserted into 40 random sequences (GC 0.5)"
    assert pd.read_csv(result.write(tmp_path / "gia.tsv"), sep="\t")["target"].tolist() == ["unit_0"]
    # a MEME motif: its consensus, or instances drawn from its PWM; given windows, shuffled
    pwm = np.full((len(MOTIF), 4), 0.1)
    pwm[np.arange(len(MOTIF)), [ALPHABET.index(b) for b in MOTIF]] = 0.7
    meme = write_meme([Motif("AP1", pwm)], tmp_path / "ap1.meme")
    X = random_one_hot(30, length, seed=4)
    by_name = motif_importance(model, "AP1", meme=meme, windows=ArrayWindows(X), windows_source="bg.bed", units=["0"])
    expected = global_importance(model, X, motif_one_hot(MOTIF), unit)
    pd.testing.assert_frame_equal(by_name.table.drop(columns="motif"), expected)
    assert by_name.summary() == f"AP1 ({len(MOTIF)} bp) inserted into 30 windows of bg.bed"
    sampled = motif_importance(model, "AP1", meme=meme, sample=True, windows=ArrayWindows(X), shuffle=True,
                               windows_source="bg.bed", units=["0"], seed=5)
    shuffled = dinucleotide_shuffle(X, seed=5)
    expected = global_importance(model, shuffled, sample_motifs(pwm, 30, seed=5), unit)
    pd.testing.assert_frame_equal(sampled.table.drop(columns="motif"), expected)
    assert sampled.background == "30 windows of bg.bed (dinucleotide-shuffled)"
    # the targets: every output with all_outputs, the named units by default
    outputs = motif_importance(model, MOTIF, n_random=10, all_outputs=True)
    assert outputs.table["target"].tolist() == ["detector", "other"]
    with pytest.raises(MFDError, match="no motif named 'CTCF' in the MEME file"):
        motif_importance(model, "CTCF", meme=meme, n_random=10)
    with pytest.raises(MFDError, match=f"does not fit at position {length - 2}"):
        motif_importance(model, MOTIF, n_random=10, position=length - 2)

