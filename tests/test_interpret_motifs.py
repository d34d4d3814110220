"""Motif analyses: filter-to-PWM on a hand-set first layer, MEME I/O, motif similarity,
global importance analysis, and the sequence edits they use."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret_helpers import MOTIF, OTHER_MOTIF, detector_model, plant, random_one_hot, set_first_layer_motif
from toy_models import small_config
from mfd_model.encoding import ALPHABET
from mfd_model.errors import MFDError
from mfd_model.interpret.ersatz import (dinucleotide_shuffle, insert_motif, motif_one_hot, random_sequences,
                                        sample_motifs)
from mfd_model.interpret.gia import global_importance
from mfd_model.interpret.motifs import Motif, filter_pwms, match_motifs, motif_similarity, read_meme, write_meme
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
