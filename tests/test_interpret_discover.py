"""De novo motif discovery (mfd_model.interpret.discover; ``mfd motifs discover``).

Independent references: TomTom of a known PWM against a database that holds it (itself, the
smallest q-value; its reverse complement on the - strand; a column-shuffled copy matches
nothing); TF-MoDISco on synthetic hypothetical contributions whose planted PWM is the only
signal (the pattern is that PWM); the command end to end on a model whose unit detects a
motif analytically (tests/interpret_helpers.py), matched to that motif in a MEME file.
The packages are the ``interpret`` extra: each test skips when its package is missing.
numba compiles memelite's and modisco-lite's kernels on first use (about 1.5 minutes once per
installation; cached next to the packages afterwards).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interpret_helpers import MOTIF, detector_model, random_dna, write_fasta
from mfd_model.encoding import ALPHABET
from mfd_model.errors import MFDError
from mfd_model.interpret.discover import kmer_motif, motif_database, trim_bounds
from mfd_model.interpret.motifs import Motif, motif_similarity

# a GATA-like PWM (rows A C G T): its consensus is AGATAAGC
KNOWN = np.array([[0.70, 0.10, 0.10, 0.10],
                  [0.05, 0.05, 0.85, 0.05],
                  [0.90, 0.03, 0.04, 0.03],
                  [0.03, 0.03, 0.04, 0.90],
                  [0.90, 0.03, 0.04, 0.03],
                  [0.85, 0.05, 0.05, 0.05],
                  [0.10, 0.10, 0.70, 0.10],
                  [0.15, 0.55, 0.15, 0.15]])


def _random_database(n: int = 60, seed: int = 0) -> list[Motif]:
    """``n`` random PWMs (Dirichlet columns, 6-16 bp) named ``rand<i>``."""
    rng = np.random.default_rng(seed)
    return [Motif(f"rand{i}", rng.dirichlet(np.full(4, 0.5), size=int(rng.integers(6, 17))), info={"source": "random"})
            for i in range(n)]


def test_trim_bounds_and_kmer_motif():
    cwm = np.zeros((10, 4))
    cwm[3:7, 0] = [0.2, 1.0, -0.8, 0.5]
    cwm[1, 1] = 0.1                                    # below 0.3 x the maximum: cut
    assert trim_bounds(cwm, 0.3) == (4, 7)
    assert trim_bounds(cwm, 0.05) == (1, 7)
    assert trim_bounds(np.zeros((5, 4))) == (0, 5)
    motif = kmer_motif("ccTTg")
    assert motif.name == "kmer:CCTTG" and motif.consensus == "CCTTG"
    np.testing.assert_allclose(motif.pwm.sum(axis=1), 1.0)


def test_motif_database_in_order_with_sources():
    """MEME files' motifs (named as their factor, the file as source), then k-mers; one line per source."""
    first, second = _random_database(3, seed=1), _random_database(2, seed=2)
    database = motif_database([("a.meme", first), ("b.meme", second)], ["cctTG", "GATA"])
    assert [m.name for m in database.motifs] == [m.name for m in first + second] + ["kmer:CCTTG", "kmer:GATA"]
    assert database.sources == ["a.meme (3 motifs)", "b.meme (2 motifs)", "k-mers CCTTG, GATA"]
    assert database.motifs[3].info == {"source": "b.meme", "tf": "rand0"}
    assert database.motifs[-1].info == {"tf": "GATA", "source": "k-mer"}
    with pytest.raises(MFDError, match="no motif database to match against"):
        motif_database()
    with pytest.raises(MFDError, match="not a DNA sequence"):
        motif_database(kmers=["ACGX"])
    pytest.importorskip("pyjaspar", reason="pyjaspar (the interpret extra) is not installed")
    jaspar = motif_database(kmers=["GATA"], jaspar_release="JASPAR2024", jaspar_taxa=("vertebrates",))
    assert jaspar.sources == ["k-mers GATA", f"JASPAR2024 CORE vertebrates ({len(jaspar.motifs) - 1} motifs)"]


def test_tomtom_matches_a_known_pwm_to_itself():
    pytest.importorskip("memelite", reason="memelite (the interpret extra) is not installed")
    from mfd_model.interpret.discover import tomtom_matches

    known = Motif("KNOWN", KNOWN, info={"tf": "GATA-like", "source": "test"})
    database = _random_database() + [known]
    rng = np.random.default_rng(3)
    order = np.array([3, 6, 0, 7, 1, 4, 2, 5])         # no column keeps its place
    shuffled = Motif("shuffled", KNOWN[order])
    assert not np.allclose(shuffled.pwm, KNOWN)
    queries = [Motif("self", KNOWN), Motif("revcomp", KNOWN[::-1, ::-1].copy()), shuffled,
               Motif("noisy", (KNOWN + rng.uniform(0, 0.1, KNOWN.shape)) / (1 + 0.2))]
    table = tomtom_matches(queries, database, top=len(database))
    assert list(table.columns[:7]) == ["query", "rank", "match", "match_name", "source", "p_value", "q_value"]
    for name, strand in (("self", "+"), ("revcomp", "-"), ("noisy", "+")):
        rows = table[table["query"] == name]
        best = rows.iloc[0]
        assert best["match"] == "KNOWN" and best["match_name"] == "GATA-like" and best["strand"] == strand
        assert best["q_value"] < 1e-3 and best["q_value"] == rows["q_value"].min()
        assert (rows["q_value"].iloc[1:] > best["q_value"]).all()
        assert best["offset"] == 0 and best["overlap"] == len(KNOWN)
    rows = table[table["query"] == "shuffled"]
    assert rows.iloc[0]["match"] != "KNOWN" or rows.iloc[0]["q_value"] > 0.05
    assert rows.set_index("match").loc["KNOWN", "q_value"] > 0.05
    assert (rows["q_value"] > 0.05).all()               # the shuffled PWM matches nothing
    # q-values: Benjamini-Hochberg over the whole database, by hand
    rows = table[table["query"] == "self"].sort_values("p_value")
    p = rows["p_value"].to_numpy()
    m = len(database)
    q = np.minimum.accumulate((p * m / np.arange(1, m + 1))[::-1])[::-1].clip(max=1)
    np.testing.assert_allclose(rows["q_value"], q, rtol=1e-3)
    np.testing.assert_allclose(rows["e_value"], p * m, rtol=1e-3)


def test_jaspar_ctcf_matches_itself():
    pytest.importorskip("memelite", reason="memelite (the interpret extra) is not installed")
    pytest.importorskip("pyjaspar", reason="pyjaspar (the interpret extra) is not installed")
    from mfd_model.errors import MFDError
    from mfd_model.interpret.discover import jaspar_motifs, tomtom_matches

    database = jaspar_motifs("JASPAR2024", "CORE", ["vertebrates"])
    assert len(database) > 500 and all(np.allclose(m.pwm.sum(axis=1), 1) for m in database)
    ctcf = next(m for m in database if m.name.startswith("MA0139"))
    assert ctcf.info["tf"] == "CTCF"
    table = tomtom_matches([Motif("query", ctcf.pwm)], database, top=3)
    assert table.iloc[0]["match"] == ctcf.name and table.iloc[0]["q_value"] < 1e-6
    with pytest.raises(MFDError, match="unknown JASPAR release"):
        jaspar_motifs("JASPAR1999")


def _planted_contributions(pwm: np.ndarray, n: int = 240, length: int = 120, seed: int = 0):
    """Random sequences; two of three carry an instance sampled from ``pwm`` (either strand);
    hypothetical contributions are the PWM's log-odds there, small noise elsewhere. (N, L, 4) each."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, length, 4), np.float32)
    X[np.arange(n)[:, None], np.arange(length)[None], rng.integers(0, 4, (n, length))] = 1
    H = rng.normal(0, 0.01, (n, length, 4)).astype(np.float32)
    logodds = np.log2(pwm / 0.25)
    w = len(pwm)
    for i in range(n):
        if i % 3 == 2:
            continue
        forward = rng.random() < 0.5
        site = pwm if forward else pwm[::-1, ::-1]
        scores = logodds if forward else logodds[::-1, ::-1]
        start = int(rng.integers(15, length - w - 15))
        bases = [rng.choice(4, p=row / row.sum()) for row in site]
        X[i, start:start + w] = 0
        X[i, start + np.arange(w), bases] = 1
        H[i, start:start + w] += scores
    return X, H


def test_modisco_recovers_a_planted_pwm():
    pytest.importorskip("modiscolite", reason="modisco-lite (the interpret extra) is not installed")
    from mfd_model.interpret.discover import ModiscoParams, find_patterns

    X, H = _planted_contributions(KNOWN)
    patterns = find_patterns(X, H, ModiscoParams(leiden_runs=2), seed=0)
    assert patterns and patterns[0].name == "pos_pattern_0" and patterns[0].sign == 1
    top = patterns[0]
    assert top.n_seqlets >= 40
    assert top.ppm.shape == top.cwm.shape == top.hypothetical.shape and top.ppm.shape[1] == 4
    similarity, _, _ = motif_similarity(top.motif().pwm, KNOWN)
    assert similarity > 0.8
    consensus = "".join(ALPHABET[i] for i in KNOWN.argmax(axis=1))
    reverse = consensus[::-1].translate(str.maketrans("ACGT", "TGCA"))
    assert consensus[1:7] in top.consensus or reverse[1:7] in top.consensus


# ============================================================================ the command
@pytest.fixture
def discover_files(tmp_path):
    """A genome with MOTIF at 150 sites 300 bp apart, a BED of the sites, a detector model, a MEME file
    holding MOTIF among 40 random PWMs."""
    from mfd_model.interpret.motifs import write_meme
    from mfd_model.model_io import save_model

    seq = list(random_dna(150 * 300 + 600, seed=5))
    rows = []
    for k in range(150):
        start = 300 + 300 * k
        seq[start:start + len(MOTIF)] = MOTIF
        rows.append(f"chrA\t{start}\t{start + len(MOTIF)}\tsite{k}\n")
    fasta = write_fasta(tmp_path / "genome.fa", {"chrA": "".join(seq)})
    bed = tmp_path / "sites.bed"
    bed.write_text("".join(rows))
    planted = np.full((len(MOTIF), 4), 0.02)
    planted[np.arange(len(MOTIF)), [ALPHABET.index(b) for b in MOTIF]] = 0.94
    meme = write_meme([Motif("PLANTED", planted)] + _random_database(40, seed=1), tmp_path / "motifs.meme")
    model = save_model(detector_model(MOTIF), tmp_path / "detector.pt")
    return {"fasta": fasta, "bed": bed, "meme": meme, "model": model, "tmp": tmp_path}


def test_discover_command_end_to_end(discover_files, capsys, monkeypatch):
    pytest.importorskip("memelite", reason="memelite (the interpret extra) is not installed")
    pytest.importorskip("modiscolite", reason="modisco-lite (the interpret extra) is not installed")
    from mfd_model.cli import main

    f = discover_files
    out = f["tmp"] / "discover"
    assert main(["motifs", "discover", str(f["bed"]), str(f["fasta"]), str(out), "-m", str(f["model"]),
                 "--unit", "0", "--no-jaspar", "--meme", str(f["meme"]), "--kmer", "CCTTG", "--references", "4",
                 "--leiden-runs", "2", "--no-progress"]) == 0
    patterns = pd.read_csv(out / "patterns.tsv", sep="\t")
    top = patterns.iloc[0]
    assert top["pattern"] == "pos_pattern_0" and top["best_match"] == "PLANTED" and top["significant"]
    reverse = MOTIF[::-1].translate(str.maketrans("ACGT", "TGCA"))
    assert top["q_value"] < 1e-3 and top["consensus"] in (MOTIF, reverse)          # either strand
    matches = pd.read_csv(out / "matches.tsv", sep="\t")
    assert set(matches["query"]) == set(patterns["pattern"]) and (matches.groupby("query").size() <= 5).all()
    report = (out / "report.md").read_text()
    assert "PLANTED" in report and "logos/pos_pattern_0.png" in report
    assert (out / "logos" / "pos_pattern_0.png").exists() and (out / "patterns.meme").exists()
    assert (out / "summary.json").exists()
    assert not any(p.name.startswith(".") for p in f["tmp"].iterdir())      # nothing left staged
    # one-line errors, nothing written
    capsys.readouterr()
    bad = f["tmp"] / "bad"
    cases = [(["--unit", "0", "--output", "detector"], "explain one unit or one output"),
             (["--unit", "0", "--no-jaspar"], "no motif database"),
             (["--unit", "0", "--kmer", "ACGX", "--no-jaspar"], "not a DNA sequence"),
             (["--unit", "99", "--no-jaspar", "--kmer", "ACG"], "out of range")]
    try:
        import pyjaspar  # noqa: F401
        cases.append((["--unit", "0", "--jaspar-release", "JASPAR1999"], "unknown JASPAR release"))
    except ImportError:
        pass
    for argv, message in cases:
        assert main(["motifs", "discover", str(f["bed"]), str(f["fasta"]), str(bad), "-m", str(f["model"]), *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert not bad.exists()
    # a missing package of the pipeline: one line, before any model call
    import sys
    monkeypatch.setitem(sys.modules, "modiscolite", None)
    assert main(["motifs", "discover", str(f["bed"]), str(f["fasta"]), str(bad), "-m", str(f["model"]),
                 "--unit", "0", "--no-jaspar", "--kmer", "ACG"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs the package 'modisco-lite'" in err[0], err
    assert not bad.exists()
