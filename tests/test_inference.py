"""``mfd predict``: windows as kipoiseq makes them, numbers as a one-by-one model call gives them,
skipped intervals counted, outputs in three formats, the Lightning path, clear errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import requires_shared_data
from export_helpers import one_thread
from toy_models import toy_model_in

from mfd_model import MFDError
from mfd_model.encoding import one_hot, one_hot_encode, one_hot_encode_batch, reverse_complement_one_hot
from mfd_model.inference.fetch import fetch_codes, fetch_windows
from mfd_model.inference.intervals import predict_intervals
from mfd_model.inference.prediction_tables import write_predictions
from mfd_model.interpret.windows import centred_windows

HG38 = ("hg38_chr1_1mb", "hg38_1m.fa.gz")
# mfd predict runs the channels-last rebuild on the CPU: it differs from the module by float32
# rounding, as much as the module itself differs from a float64 evaluation (~5e-6 here).
ATOL = 1e-5


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    yield from one_thread()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return toy_model_in(tmp_path_factory.mktemp("predict_model"), seed=21)


@pytest.fixture(scope="module")
def fasta():
    return requires_shared_data(*HG38)


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    """Intervals of varied width over chr1:0-1Mb (some in N gaps), one unknown contig, two off the contig ends."""
    rng = np.random.default_rng(0)
    starts = rng.integers(1_000, 990_000, size=300)
    widths = rng.integers(1, 3_000, size=300)
    rows = [f"chr1\t{s}\t{s + w}\tpeak{k}\n" for k, (s, w) in enumerate(zip(starts, widths))]
    rows += ["chrUn_gl000220\t100\t200\tunknown\n", "chr1\t10\t60\tleft_edge\n", "1\t999_000\t999_900\n".replace("_", "")]
    path = tmp_path_factory.mktemp("predict_bed") / "intervals.bed"
    path.write_text("".join(rows))
    return path


def test_windows_are_kipoiseqs(fasta):
    """Independent reference: kipoiseq's own resize_interval on pybedtools intervals."""
    import pybedtools
    from kipoiseq.transforms.functional import resize_interval

    from mfd_model.genome import Genome
    rng = np.random.default_rng(1)
    starts = rng.integers(600, 10_000, size=500)  # pybedtools coordinates are unsigned: windows must start >= 0
    ends = starts + rng.integers(0, 3_000, size=500)
    intervals = pd.DataFrame({"chrom": "chr1", "start": starts, "end": ends})
    for length in (1152, 1001):
        windows = centred_windows(intervals, Genome(fasta), length)
        theirs = [resize_interval(pybedtools.create_interval_from_list(["chr1", int(s), int(e)]), length, "center")
                  for s, e in zip(starts, ends)]
        np.testing.assert_array_equal(np.stack([windows.start, windows.end], axis=1),
                                      [(i.start, i.end) for i in theirs])


def test_batched_reads_equal_window_by_window_reads(tmp_path):
    """fetch_windows cuts clusters of nearby windows from one read; reference: one fetch per window."""
    from mfd_model.genome import Genome
    rng = np.random.default_rng(4)
    seqs = {name: "".join(rng.choice(list("ACGTNacgt"), size=size)) for name, size in (("chrA", 30_000), ("chrB", 9_000))}
    (tmp_path / "two.fa").write_text("".join(f">{n}\n{s}\n" for n, s in seqs.items()))
    genome = Genome(tmp_path / "two.fa")
    contigs = rng.choice(["chrA", "chrB"], size=400).astype(object)
    starts = np.array([rng.integers(-700, len(seqs[c]) - 300) for c in contigs])
    expected = one_hot_encode_batch([genome.fetch(c, int(s), int(s) + 1000) for c, s in zip(contigs, starts)],
                                    n_value=0.25)
    np.testing.assert_array_equal(fetch_windows(genome, contigs, starts, 1000, n_value=0.25), expected)
    for max_gap, max_span in ((0, 1_500), (100, 50_000)):  # many small reads; a few mid-sized ones
        codes = fetch_codes(genome, contigs, starts, 1000, max_gap=max_gap, max_span=max_span)
        np.testing.assert_array_equal(one_hot(codes, n_value=0.25), expected)


def test_encoding_is_kipoiseqs():
    from kipoiseq.transforms import ReorderedOneHot

    rng = np.random.default_rng(2)
    seqs = ["".join(rng.choice(list("ACGTN"), size=200)) for _ in range(20)]
    transform = ReorderedOneHot(alphabet="ACGT", dtype=np.float32, alphabet_axis=0)
    np.testing.assert_array_equal(one_hot_encode_batch(seqs, n_value=0.25), np.stack([transform(s) for s in seqs]))
    np.testing.assert_array_equal(one_hot_encode_batch([s.lower() for s in seqs]), np.stack([one_hot_encode(s) for s in seqs]))


def _brute_force(model, bed, fasta, rc=False):
    """Interval by interval: kipoiseq's window, pyfaidx's sequence, mfd_model's one-hot; then the model."""
    import pybedtools
    import pyfaidx
    from kipoiseq.transforms.functional import resize_interval

    genome = pyfaidx.Fasta(str(fasta))
    frame = pd.read_csv(bed, sep="\t", header=None)
    xs = []
    for chrom, start, end in frame.iloc[:, :3].itertuples(index=False):
        window = resize_interval(pybedtools.create_interval_from_list([chrom, int(start), int(end)]), 1152, "center")
        if chrom not in genome or window.start > window.end or window.end > len(genome[chrom]):
            continue  # unknown contig, or off the contig (a negative start wraps around in pybedtools)
        xs.append(one_hot_encode(str(genome[chrom][window.start:window.end])))
    x = torch.from_numpy(np.stack(xs))
    with torch.no_grad():
        p = model(x)
        if rc:
            p = (p + model(reverse_complement_one_hot(x))) / 2
    return p.numpy()


def test_predictions_equal_interval_by_interval_reference(model, bed, fasta):
    messages = []
    result = predict_intervals(model, bed, fasta, batch_size=64, progress=False, log=messages.append)
    expected = _brute_force(model, bed, fasta)
    assert result.probabilities.shape == expected.shape == (300, model.n_experiments)
    assert expected.std() > 0.05
    np.testing.assert_allclose(result.probabilities, expected, atol=ATOL, rtol=0)
    assert result.intervals["name"].tolist() == [f"peak{k}" for k in range(300)]
    # unknown contig and windows off the contig ends: counted and reported, not silently dropped
    assert result.windows.skipped == {"unknown contig": 1, "window outside contig": 2}
    assert "kept 300 of 303 intervals" in messages[0] and "--pad" in messages[0]


def test_reverse_complement_average_and_batch_size(model, bed, fasta):
    a = predict_intervals(model, bed, fasta, batch_size=7, reverse_complement=True, progress=False, log=lambda _: None)
    np.testing.assert_allclose(a.probabilities, _brute_force(model, bed, fasta, rc=True), atol=ATOL, rtol=0)


def test_pad_scores_windows_off_the_contig_end(model, bed, fasta):
    result = predict_intervals(model, bed, fasta, pad=True, progress=False, log=lambda _: None)
    assert len(result.intervals) == 302 and result.windows.skipped["window outside contig"] == 0
    edge = result.intervals.index[result.intervals["name"] == "left_edge"][0]
    from mfd_model.genome import Genome
    start = (10 + 60) // 2 - 1152 // 2
    seq = Genome(fasta).fetch("chr1", start, start + 1152)  # N-padded on the left
    with torch.no_grad():
        expected = model(torch.from_numpy(one_hot_encode(seq)[None]))[0].numpy()
    np.testing.assert_allclose(result.probabilities[edge], expected, atol=ATOL, rtol=0)


@pytest.mark.parametrize("devices", [1, 2])
def test_lightning_path_gives_the_same_numbers(model, bed, fasta, tmp_path, devices):
    plain = predict_intervals(model, bed, fasta, batch_size=32, progress=False, log=lambda _: None)
    light = predict_intervals(model, bed, fasta, batch_size=32, use_lightning=True, devices=devices,
                              progress=False, workdir=tmp_path, log=lambda _: None)
    np.testing.assert_allclose(light.probabilities, plain.probabilities, atol=1e-6, rtol=0)


@pytest.mark.parametrize("suffix", [".tsv", ".tsv.gz", ".parquet", ".h5"])
def test_output_formats_round_trip(tmp_path, suffix):
    intervals = pd.DataFrame({"chrom": ["chr1", "chr2", "chrX"], "start": [0, 10, 20], "end": [5, 15, 25],
                              "name": ["a", "b", "c"]})
    probs = np.random.default_rng(3).random((3, 2)).astype(np.float32)
    path = write_predictions(tmp_path / f"out{suffix}", intervals, probs, ["exp_a", "exp b"], {"model": "toy"})
    if suffix == ".h5":
        import h5py
        with h5py.File(path) as handle:
            got = handle["probabilities"][:]
            assert [s.decode() for s in handle["chrom"][:]] == ["chr1", "chr2", "chrX"]
            assert [s.decode() for s in handle["experiment_names"][:]] == ["exp_a", "exp b"]
    else:
        frame = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path, sep="\t")
        assert list(frame.columns) == ["chrom", "start", "end", "name", "exp_a", "exp b"]
        assert frame["start"].tolist() == [0, 10, 20]
        got = frame[["exp_a", "exp b"]].to_numpy()
    np.testing.assert_allclose(got, probs, rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_cli_writes_tsv_and_reports(model, bed, fasta, tmp_path, capsys):
    from mfd_model import save_model
    from mfd_model.cli import main

    save_model(model, tmp_path / "model.pt")
    out = tmp_path / "pred.tsv"
    assert main(["predict", str(bed), str(fasta), str(out), "-m", str(tmp_path / "model.pt"), "--no-progress"]) == 0
    frame = pd.read_csv(out, sep="\t")
    assert len(frame) == 300 and list(frame.columns[4:]) == model.experiment_names
    err = capsys.readouterr().err
    assert "kept 300 of 303 intervals" in err and "1 unknown contig" in err


def test_cli_bad_input_is_one_line_and_no_output(model, fasta, tmp_path, capsys):
    from mfd_model.cli import main

    bad = tmp_path / "bad.bed"
    bad.write_text("chr1\t100\t200\nchr1\tten\t300\n")
    out = tmp_path / "pred.tsv"
    assert main(["predict", str(bad), str(fasta), str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.bed:2:" in err[0]
    assert main(["predict", str(bad), str(fasta), str(tmp_path / "pred.xlsx")]) == 2
    assert "unknown output format" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.bed"]


@pytest.mark.parametrize("kind", ["mfd", "baseline_even_kernels"])
def test_channels_last_rebuild_equals_the_model(tmp_path, kind):
    from mfd_model.inference.fast_model import ChannelsLastMFD
    from toy_models import random_onehot
    kwargs = {} if kind == "mfd" else {"head": "baseline", "stem_kernel": 14, "tower_kernel": 4, "dilated_kernel": 2}
    model = toy_model_in(tmp_path, seed=5, **kwargs)
    fast = ChannelsLastMFD(model)
    x = torch.from_numpy(random_onehot(200, 1152, seed=6))
    with torch.no_grad():
        expected, logits = model(x), model.logits(x)
        torch.testing.assert_close(fast.features(x), model.features(x), atol=1e-4, rtol=0)
        torch.testing.assert_close(fast.logits(x), logits, atol=1e-4, rtol=0)
        torch.testing.assert_close(fast(x), expected, atol=ATOL, rtol=0)
    assert logits.std(dim=0).mean() > 1.0


@pytest.mark.parametrize("size, length", [(2, 10), (2, 11), (3, 14), (1, 5)])
def test_strided_max_equals_max_pooling(size, length):
    """The rebuild's pooling (the maximum of strided views) gives MaxPool1d's values, channels-last kept;
    a pooling it does not cover (padding) is rebuilt as MaxPool2d with the same arguments."""
    from mfd_model.inference.fast_model import StridedMax, to_2d
    x = torch.randn(3, 5, length, generator=torch.Generator().manual_seed(size + length))
    pool = torch.nn.MaxPool1d(size)
    rebuilt = to_2d(pool)
    assert isinstance(rebuilt, StridedMax)
    x2 = x[:, :, None, :].contiguous(memory_format=torch.channels_last)
    got = rebuilt(x2)
    torch.testing.assert_close(got[:, :, 0], pool(x), atol=0, rtol=0)
    assert got.is_contiguous(memory_format=torch.channels_last)
    padded = torch.nn.MaxPool1d(3, 2, padding=1)
    assert isinstance(to_2d(padded), torch.nn.MaxPool2d)
    torch.testing.assert_close(to_2d(padded)(x2)[:, :, 0], padded(x), atol=0, rtol=0)
