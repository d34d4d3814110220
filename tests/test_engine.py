"""mfd_model.inference.engine: the one inference engine, against a brute force.

The reference runs the model itself (not the engine's channels-last rebuild) on every window alone:
forward, and reverse-complemented by hand (positions reversed, A<->T, C<->G: the ACGT channels
reversed); shifted windows are read one by one from the FASTA; shifts are averaged and the strands
merged by hand (numpy).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from export_helpers import one_thread
from interpret_helpers import write_fasta
from toy_models import SEQ_LEN, random_onehot, spread_out_, toy_mfd

from mfd_model.encoding import base_codes, base_indices, one_hot_encode
from mfd_model.errors import MFDError
from mfd_model.genome import Genome
from mfd_model.inference.engine import STRANDS, Engine, WindowBatches, predict_windows
from mfd_model.inference.sources import ArrayWindows, GenomeWindows

ATOL = 1e-5  # the channels-last rebuild vs the module: float32 rounding

BY_HAND = {
    "fwd": lambda f, r: f,
    "rc": lambda f, r: r,
    "both": lambda f, r: np.stack([f, r], axis=1),
    "mean": lambda f, r: (f + r) / 2,
    "median": lambda f, r: (f + r) / 2,
    "max": np.maximum,
    "min": np.minimum,
    "absmax": lambda f, r: np.where(np.abs(r) > np.abs(f), r, f),
    "concat": lambda f, r: np.concatenate([f, r], axis=-1),
}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    yield from one_thread()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from toy_models import write_toy_metadata

    torch.manual_seed(0)
    return spread_out_(toy_mfd(write_toy_metadata(tmp_path_factory.mktemp("engine_model"))), seed=3)


def _alone(model, X: np.ndarray, output: str) -> tuple[np.ndarray, np.ndarray]:
    """``output`` of every one-hot window alone, forward and reverse complement by hand (the module itself)."""
    call = {"probabilities": model, "logits": model.logits, "features": model.features}[output]
    with torch.no_grad():
        fwd = np.stack([call(torch.from_numpy(x[None]))[0].numpy() for x in X])
        rc = np.stack([call(torch.from_numpy(np.ascontiguousarray(x[::-1, ::-1])[None]))[0].numpy() for x in X])
    return fwd, rc


@pytest.mark.parametrize("output", ["probabilities", "logits", "features"])
@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_every_strand_choice_equals_each_window_alone(model, output, batch_size):
    X = random_onehot(7, SEQ_LEN, seed=1, n_value=0.0)
    fwd, rc = _alone(model, X, output)
    for strand in STRANDS:
        got = predict_windows(model, X, output=output, strand=strand, batch_size=batch_size, device="cpu")
        np.testing.assert_allclose(got, BY_HAND[strand](fwd, rc), rtol=0, atol=ATOL, err_msg=strand)
        assert got.dtype == np.float32


def test_codes_and_one_hot_give_the_same_numbers(model):
    X = random_onehot(5, SEQ_LEN, seed=2, n_value=0.0)
    letters = np.array(list("ACGT"))[X.argmax(axis=1)]
    letters[X.sum(axis=1) == 0] = "N"
    seqs = ["".join(row) for row in letters]
    codes = np.stack([base_codes(s) for s in seqs])              # uint8, N = 4
    indices = np.stack([base_indices(s) for s in seqs])          # int8, N = -1 (the variant scorer's)
    want = predict_windows(model, X, strand="concat", device="cpu")
    for windows in (codes, indices, torch.from_numpy(indices)):
        np.testing.assert_allclose(predict_windows(model, windows, strand="concat", device="cpu"), want,
                                   rtol=0, atol=1e-6)


def test_shifts_of_genome_windows_equal_shifted_windows_by_hand(model, tmp_path):
    rng = np.random.default_rng(5)
    contigs = {"c1": "".join(rng.choice(list("ACGTN"), 900, p=[0.24] * 4 + [0.04])),
               "c2": "".join(rng.choice(list("acgt"), 500))}             # lower case, a short contig
    genome = Genome(write_fasta(tmp_path / "g.fa", contigs))
    chrom = np.array(["c2", "c1", "c1", "c2", "c1"], dtype=object)    # not in genomic order
    starts = np.array([-40, 600, 10, 300, 200])                        # two windows run off a contig end
    shifts = (-3, 0, 2)
    sums = {s: 0.0 for s in ("fwd", "rc")}
    for shift in shifts:
        X = np.stack([one_hot_encode(genome.fetch(c, int(s) + shift, int(s) + shift + SEQ_LEN))
                      for c, s in zip(chrom, starts)])
        f, r = _alone(model, X, "features")
        sums["fwd"], sums["rc"] = sums["fwd"] + f, sums["rc"] + r
    fwd, rc = sums["fwd"] / len(shifts), sums["rc"] / len(shifts)
    source = GenomeWindows(genome, chrom, starts, SEQ_LEN)
    assert list(source.order) == [0, 3, 2, 4, 1]   # by contig (first seen first), then start
    for strand in ("fwd", "both", "absmax"):
        got = predict_windows(model, source, output="features", strand=strand, shifts=shifts, batch_size=4,
                              device="cpu")
        np.testing.assert_allclose(got, BY_HAND[strand](fwd, rc), rtol=0, atol=ATOL, err_msg=strand)
    genome.close()


def test_one_call_per_batch_holds_every_shift_and_strand(model, tmp_path):
    """``batch_size`` counts model inputs: windows x shifts x strands per call."""
    genome = Genome(write_fasta(tmp_path / "g.fa", {"c": "ACGT" * 200}))
    source = GenomeWindows(genome, np.array(["c"] * 10, dtype=object), np.arange(10) * 7, SEQ_LEN)
    calls = []
    engine = Engine(model, output=lambda m, x: (calls.append(x.shape[0]), m(x))[1], strand="mean", shifts=(-1, 1),
                    batch_size=12, device="cpu")
    assert engine.windows_per_batch == 3
    engine.predict(source)
    assert calls == [12, 12, 12, 4]
    batch = WindowBatches(source, 3, (-1, 1))[0]
    assert batch["x"].shape == (2, 3, SEQ_LEN) and batch["x"].dtype == torch.uint8
    genome.close()


def test_a_function_of_the_model_runs_on_the_model_itself(model):
    X = random_onehot(4, SEQ_LEN, seed=6)
    fwd, rc = _alone(model, X, "features")
    got = predict_windows(model, X, output=lambda m, x: m.features(x)[:, :3] * 2, strand="rc", batch_size=3,
                          device="cpu")
    np.testing.assert_allclose(got, rc[:, :3] * 2, rtol=0, atol=ATOL)


def test_float64_model_stays_float64(model):
    model64 = __import__("copy").deepcopy(model).double()
    X = random_onehot(3, SEQ_LEN, seed=7, n_value=0.0)
    with torch.no_grad():
        want = model64(torch.from_numpy(X).double()).numpy()
    got = predict_windows(model64, X, device="cpu")
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_out_workers_and_empty_input(model, tmp_path):
    genome = Genome(write_fasta(tmp_path / "g.fa", {"c": "ACGTTGCA" * 120}))
    source = GenomeWindows(genome, np.array(["c"] * 9, dtype=object), np.arange(9)[::-1] * 50, SEQ_LEN)
    want = predict_windows(model, source, strand="mean", batch_size=4, device="cpu")
    out = np.lib.format.open_memmap(tmp_path / "out.npy", mode="w+", dtype=np.float32, shape=want.shape)
    got = Engine(model, strand="mean", batch_size=4, device="cpu").predict(source, out=out, num_workers=1)
    assert got is out
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), want)
    empty = predict_windows(model, np.zeros((0, SEQ_LEN), np.uint8), output="features", strand="concat", device="cpu")
    assert empty.shape == (0, 2 * model.config.latent_dim)
    genome.close()


def test_precisions(model):
    X = random_onehot(16, SEQ_LEN, seed=8, n_value=0.0)
    fp32 = predict_windows(model, X, device="cpu")
    assert np.array_equal(predict_windows(model, X, device="cpu", precision="tf32"), fp32)  # a CPU has no TF32
    bf16 = predict_windows(model, X, device="cpu", precision="bf16")
    assert bf16.dtype == np.float32
    deviation = np.abs(bf16 - fp32).max()
    assert 0 < deviation < 0.15, deviation   # bf16 keeps 8 bits of mantissa: about 1e-2 per layer
    assert np.corrcoef(bf16.ravel(), fp32.ravel())[0, 1] > 0.99


def test_compile_runs_or_fails_in_one_line(model, monkeypatch):
    X = random_onehot(5, SEQ_LEN, seed=9)
    want = predict_windows(model, X, strand="mean", batch_size=2, device="cpu")
    real = torch.compile
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: real(fn, backend="eager"))  # tracing, no C++ build
    got = predict_windows(model, X, strand="mean", batch_size=2, device="cpu", compile=True)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)

    def broken(fn, **kw):
        def run(x):
            raise RuntimeError("InductorError: no working C++ compiler found\nmore lines")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    with pytest.raises(MFDError) as err:
        predict_windows(model, X, device="cpu", compile=True)
    assert "\n" not in err.value.one_line()
    assert "torch.compile failed on cpu: RuntimeError: InductorError: no working C++ compiler found" in str(err.value)


def test_bad_choices_are_one_line_errors(model):
    X = random_onehot(2, SEQ_LEN)
    for kwargs, match in [({"strand": "sideways"}, "unknown strand choice 'sideways'"),
                          ({"output": "scores"}, "unknown output 'scores'"),
                          ({"precision": "fp8"}, "unknown precision 'fp8'"),
                          ({"shifts": ()}, "no window shift given"),
                          ({"batch_size": 0}, "batch size must be >= 1")]:
        with pytest.raises(MFDError, match=match):
            predict_windows(model, X, device="cpu", **kwargs)
    with pytest.raises(MFDError, match="windows given as an array cannot be shifted"):
        predict_windows(model, X, device="cpu", shifts=(0, 1))
    with pytest.raises(MFDError, match=r"windows must have shape \(N, L\)"):
        ArrayWindows(np.zeros(5))


def test_commands_report_a_failed_compile_in_one_line_and_write_nothing(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from mfd_model.cli import main

    def broken(fn, **kw):
        def run(x):
            raise RuntimeError("InductorError: InvalidCxxCompiler: No working C++ compiler found\ndetails")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    examples = Path(__file__).resolve().parents[1] / "mfd_model" / "default_model" / "example_files"
    runs = {"predict": ["predict", str(examples / "intervals.bed"), str(examples / "sequence.fa"),
                        str(tmp_path / "p.tsv"), "--no-progress", "--compile"],
            "score-variants": ["score-variants", str(examples / "variants.vcf"), str(examples / "sequence.fa"),
                               str(tmp_path / "s.tsv"), "--no-incremental", "--workers", "0", "-q", "--compile"]}
    for command, argv in runs.items():
        capsys.readouterr()
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith(f"mfd {command}: error: torch.compile failed on cpu: RuntimeError: InductorError")
        assert "(fix: leave out --compile" in err
    assert not list(tmp_path.iterdir())


def test_default_cpu_batch_size_follows_the_models_widest_activation():
    """64-256 inputs per call on a CPU, by the widest activation worked out by hand: the default model's
    is the input / stem at 384 bp (16 x 384 values: 8 MiB hold 341 -> 256), the paper-sized model's the
    stem's 60 channels at 1152 bp (69,120 values: 30 -> at least 64); without a config 64."""
    from types import SimpleNamespace

    import yaml

    from mfd_model.config import ModelConfig
    from mfd_model.inference.engine import default_batch_size, widest_activation
    from mfd_model.model_io import load_model
    default = load_model(None)
    assert default.config.tower_channels[0] == 16 and default.config.seq_len == 384
    assert widest_activation(default.config) == 16 * 384 and default_batch_size("cpu", default) == 256
    encode = Path(__file__).resolve().parents[1] / "train" / "configs" / "encode.yaml"
    paper = ModelConfig.from_dict(yaml.safe_load(encode.read_text())["model"])
    assert widest_activation(paper) == 60 * 1152
    assert default_batch_size("cpu", SimpleNamespace(config=paper)) == 64
    assert default_batch_size("cpu") == default_batch_size("cpu", torch.nn.Linear(2, 2)) == 64
