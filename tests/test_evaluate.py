"""Evaluation cores against independent references: scikit-learn used directly, scipy's
Fisher test on hand-computed 2 x 2 tables, hand-cut windows through the model."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import fisher_exact
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from interpret_helpers import random_dna, write_fasta
from toy_models import small_config
from mfd_model.encoding import one_hot_encode_batch, reverse_complement_one_hot
from mfd_model.errors import MFDError
from mfd_model.evaluate.disentanglement import probe_table, truth_targets
from mfd_model.evaluate.enhancers import classify, enhancer_classification, enhancer_table, split_indices
from mfd_model.evaluate.enrichment import contingency, parse_cutoff, tag_variants, variant_enrichment
from mfd_model.evaluate.performance import evaluate_store, per_experiment_metrics, summarise_by_metadata
from mfd_model.evaluate.variant_io import align_labels, read_tsv_labels, read_variant_scores, read_vcf_labels
from mfd_model.model import MFDModel


# ============================================================================ enhancers (Table 1)
def _enhancer_data(n: int = 120, d: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.35).astype(int)
    informative = rng.normal(size=(n, d)) + 1.2 * y[:, None] * (np.arange(d) < 2)
    noise = rng.normal(size=(n, d))
    return y, informative, noise


def test_classifier_reproduces_scikit_learn_used_directly():
    y, X, _ = _enhancer_data()
    Cs, seed = [0.01, 0.1, 1.0, 10.0], 3
    train, test = split_indices(y, test_size=0.2, seed=seed)
    auroc, best_c, cv_auroc = classify(X, y, train=train, test=test, Cs=Cs, folds=4, seed=seed)
    # by hand: the same split, CV AUROC for every C, refit at the best, test AUROC
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    make = lambda c: make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=5000))  # noqa: E731
    cv = [cross_val_score(make(c), X_tr, y_tr, cv=StratifiedKFold(4, shuffle=True, random_state=seed),
                          scoring="roc_auc").mean() for c in Cs]
    chosen = Cs[int(np.argmax(cv))]
    expected = roc_auc_score(y_te, make(chosen).fit(X_tr, y_tr).decision_function(X_te))
    assert best_c == chosen and cv_auroc == pytest.approx(max(cv))
    assert auroc == pytest.approx(expected, abs=1e-12)


def test_enhancer_table_ranks_informative_features_first():
    y, informative, noise = _enhancer_data(n=200, seed=1)
    fast = dict(Cs=[0.1, 1.0], folds=3)
    results = {"liver": enhancer_classification({"bio": informative, "tech": noise,
                                                 "full": np.c_[informative, noise]}, y, repeats=2, seed=0, **fast)}
    results["heart"] = enhancer_classification({"bio": informative[::-1], "tech": noise[::-1],
                                                "full": np.c_[informative, noise][::-1]}, y[::-1], seed=1, **fast)
    table = enhancer_table(results)
    assert list(table.index) == ["liver", "heart", "mean"] and list(table.columns) == ["full", "bio", "tech"]
    assert table.loc["mean", "bio"] > 0.8 > 0.65 > table.loc["mean", "tech"]
    assert table.loc["mean", "bio"] == pytest.approx((table.loc["liver", "bio"] + table.loc["heart", "bio"]) / 2)
    assert len(results["liver"]["bio"].aurocs) == 2
    with pytest.raises(MFDError, match="too few sequences"):
        enhancer_classification({"bio": informative[:6]}, np.array([1, 1, 0, 0, 0, 0]))


# ============================================================================ enrichment (Table 2)
def test_enrichment_equals_fisher_on_hand_computed_tables():
    vep = np.arange(1, 21, dtype=float)[:, None] * np.array([1.0, -1.0])[None, :]   # output 1 flips the sign
    is_true = np.zeros(20, bool)
    is_true[[0, 1, 17, 18, 19, 5]] = True
    # one-sided 0.9 on |VEP|: numpy's linear quantile of 1..20 is 18.1 -> variants 19, 20 (rows 18, 19)
    tagged = tag_variants(vep, 0.9)
    assert np.array_equal(np.nonzero(tagged[:, 0])[0], [18, 19]) and np.array_equal(tagged[:, 0], tagged[:, 1])
    hand = np.array([[2, 0], [4, 14]])
    assert np.array_equal(contingency(tagged.any(axis=1), is_true), hand)
    # two-sided (0.1, 0.9) on the signed VEP: 2.9 / 18.1 -> rows 0, 1 and 18, 19
    two = tag_variants(vep[:, :1], (0.1, 0.9))
    assert np.array_equal(np.nonzero(two[:, 0])[0], [0, 1, 18, 19])
    hand_two = np.array([[4, 0], [2, 14]])
    table, per_output = variant_enrichment({"bio": vep, "tech": vep[:, :1] * 0 + np.arange(20)[::-1, None]},
                                           is_true, cutoffs=[0.9, (0.1, 0.9)])
    row = table[(table.cutoff == "0.9") & (table.feature_set == "bio")].iloc[0]
    odds, p = fisher_exact(hand, alternative="greater")
    assert (row.true_tagged, row.control_tagged, row.true_untagged, row.control_untagged) == (2, 0, 4, 14)
    assert row.odds_ratio == odds and row.p_value == pytest.approx(p, rel=1e-12)
    row = table[(table.cutoff == "(0.1, 0.9)") & (table.feature_set == "bio")].iloc[0]
    odds, p = fisher_exact(hand_two, alternative="greater")
    assert row.odds_ratio == odds and row.p_value == pytest.approx(p, rel=1e-12)
    # 'tech' ranks variants 20..1 in reverse: |VEP| 19 and 18 sit on rows 0 and 1 (both true)
    row = table[(table.cutoff == "0.9") & (table.feature_set == "tech")].iloc[0]
    assert (row.true_tagged, row.control_tagged) == (2, 0)
    # per output: the union over outputs is what the aggregate counts
    assert set(per_output[per_output.feature_set == "bio"]["output"]) == {0, 1}


def test_enrichment_cutoffs_use_all_scored_variants():
    vep = np.arange(1, 21, dtype=float)[:, None]
    is_true = np.zeros(20, bool)
    is_true[[3, 18]] = True
    labelled = np.ones(20, bool)
    labelled[19] = False                       # scored (it sets the 0.9 quantile) but not labelled
    table, _ = variant_enrichment({"x": vep}, is_true, labelled=labelled, cutoffs=[0.9])
    row = table.iloc[0]
    hand = np.array([[1, 0], [1, 17]])         # tagged: rows 18 (true) and 19 (unlabelled, left out)
    assert (row.true_tagged, row.control_tagged, row.true_untagged, row.control_untagged) == tuple(hand.ravel())
    assert row.p_value == pytest.approx(fisher_exact(hand, alternative="greater").pvalue, rel=1e-12)


def test_enrichment_aggregates_unique_variants_over_outputs():
    vep = np.zeros((10, 2))
    vep[0, 0], vep[1, 1] = 5.0, 5.0                               # each output tags a different variant
    is_true = np.array([1, 0, 1, 0, 1, 0, 1, 0, 0, 0], bool)
    table, _ = variant_enrichment({"x": vep}, is_true, cutoffs=[0.9])
    row = table.iloc[0]
    hand = np.array([[1, 1], [3, 5]])
    assert (row.true_tagged, row.control_tagged, row.true_untagged, row.control_untagged) == tuple(hand.ravel())
    assert row.odds_ratio == fisher_exact(hand, alternative="greater").statistic
    assert parse_cutoff("0.01,0.99") == (0.01, 0.99) and parse_cutoff("(0.1, 0.9)") == (0.1, 0.9)
    with pytest.raises(MFDError):
        parse_cutoff("1.5")


def test_variant_tables_and_labels(tmp_path):
    scores = tmp_path / "scores.tsv"
    scores.write_text("#CHROM\tPOS\tID\tREF\tALT\tMFD/e1/diff\tMFD/e2/diff\tMFD/e1/bio\tMFD/e2/bio\n"
                      "chr1\t100\tv1\tA\tG\t0.1\t0.2\t0.3\t0.4\n"
                      "chr1\t200\t.\tC\tT\t-0.5\t0.0\t0.1\t0.1\n"
                      "chr2\t300\tv3\tG\tA\t0.9\t0.8\t0.7\t0.6\n")
    table = read_variant_scores(scores)
    assert table.score_names == ["diff", "bio"] and table.experiments["bio"] == ["e1", "e2"]
    np.testing.assert_allclose(table.matrices["bio"][1], [0.1, 0.1])
    assert list(table.select({"combined": "diff"})) == ["combined"]
    with pytest.raises(MFDError, match="not in the scores table"):
        table.select({"bio": "bio_swap"})
    vcf = tmp_path / "labels.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   "1\t100\tv1\tA\tG\t.\t.\tSIM=motif\n1\t200\t.\tC\tT,A\t.\t.\tSIM=control;X=1\n"
                   "2\t300\tv3\tG\tA\t.\t.\tSIM=bias\n2\t400\tv4\tG\tA\t.\t.\tSIM=control\n")
    labels = read_vcf_labels(vcf, field_name="SIM", true_values=["motif"], control_values=["control"])
    assert labels.excluded == 1 and labels.counts == {"motif": 1, "control": 2, "bias": 1}
    rows, is_true, counts = align_labels(table, labels)
    assert list(rows) == [0, 1] and list(is_true) == [True, False] and counts["unlabelled"] == 1
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("id\tlabel\nv1\t1\nv3\t0\nvX\tmaybe\n")
    labels_tsv, by_id = read_tsv_labels(tsv)
    assert by_id and labels_tsv.labels == {"v1": True, "v3": False} and labels_tsv.excluded == 1
    bad = tmp_path / "bad.vcf"
    bad.write_text("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t100\tv1\n")
    with pytest.raises(MFDError, match=r"bad.vcf:2: VCF line has 3 fields"):
        read_vcf_labels(bad)


# ============================================================================ performance
def test_per_experiment_metrics_and_metadata_summary():
    rng = np.random.default_rng(0)
    y = (rng.random((80, 3)) < 0.3).astype(int)
    y[:, 2] = 0                                                      # no positive: undefined
    s = rng.random((80, 3)) + 0.5 * y
    metrics = per_experiment_metrics(y, s, ["a", "b", "c"])
    for o in range(2):
        assert metrics.loc[o, "auroc"] == pytest.approx(roc_auc_score(y[:, o], s[:, o]))
        assert metrics.loc[o, "auprc"] == pytest.approx(average_precision_score(y[:, o], s[:, o]))
    assert np.isnan(metrics.loc[2, "auroc"]) and metrics.loc[2, "n_positive"] == 0
    meta = pd.DataFrame({"experiment": ["b", "a", "c"], "assay": ["DNase-seq", "ChIP-seq", "ChIP-seq"],
                         "biosample": ["K562,liver", "K562", ""]})
    grouped = summarise_by_metadata(metrics, meta, ["assay", "biosample"], id_column="experiment")
    chip = grouped[(grouped.column == "assay") & (grouped.value == "ChIP-seq")].iloc[0]
    assert chip.n_experiments == 2 and chip.n_scored == 1 and chip.mean_auroc == pytest.approx(metrics.loc[0, "auroc"])
    k562 = grouped[(grouped.column == "biosample") & (grouped.value == "K562")].iloc[0]
    assert k562.mean_auroc == pytest.approx(metrics.loc[:1, "auroc"].mean())


class FakeStore:
    """The LabelStore interface the performance evaluation reads, on plain arrays."""

    def __init__(self, fasta, labels, starts, names, bin_size=32):
        self.experiment_names = names
        self.bin_size = bin_size
        self.fasta_path = str(fasta)
        self.contigs = ["chrA"]
        self.bin_contig = np.zeros(len(starts), np.int32)
        self.bin_start = np.asarray(starts, np.int64)
        self._labels = labels
        self._split = np.array([2, 2, 0, 2, 2, 2] * (len(starts) // 6), np.int8)

    def indices(self, split):
        return np.flatnonzero(self._split == {"train": 0, "valid": 1, "test": 2}[split])

    def labels(self, rows):
        return self._labels[np.asarray(rows)]


def test_evaluate_store_predicts_centred_windows_both_strands(tmp_path):
    sequence = random_dna(3000, seed=1)
    fasta = write_fasta(tmp_path / "g.fa", {"chrA": sequence})
    model = MFDModel(small_config(), ["e1", "e2"]).eval()
    starts = np.arange(12) * 200 + 64                               # includes windows past the contig start
    rng = np.random.default_rng(0)
    labels = (rng.random((12, 3)) < 0.5).astype(np.float32)
    store = FakeStore(fasta, labels, starts, ["e2", "zz", "e1"])
    metrics, info = evaluate_store(model, store, progress=False)
    assert list(metrics["experiment"]) == ["e1", "e2"] and info["bins"] == 10 and info["store_only"] == 1
    rows = store.indices("test")
    windows = []
    for r in rows:                                                   # by hand: centred, N-padded windows
        lo = int(starts[r]) + 16 - 144
        windows.append(("N" * max(0, -lo) + sequence[max(lo, 0):lo + 288]).ljust(288, "N"))
    X = torch.as_tensor(one_hot_encode_batch(windows))
    with torch.no_grad():
        p = ((model(X) + model(reverse_complement_one_hot(X))) / 2).numpy()
    assert metrics.loc[0, "auroc"] == pytest.approx(roc_auc_score(labels[rows, 2], p[:, 0]))
    assert metrics.loc[1, "auroc"] == pytest.approx(roc_auc_score(labels[rows, 0], p[:, 1]))
    store.bin_size = 64
    with pytest.raises(MFDError, match="bins"):
        evaluate_store(model, store, progress=False)


# ============================================================================ diagnostics
def test_probe_table_reads_each_planted_signal_from_its_subspace():
    rng = np.random.default_rng(0)
    n = 400
    bins = pd.DataFrame({"chrom": "chrA", "start": np.arange(n) * 128, "end": np.arange(n) * 128 + 128,
                         "biology": (rng.random(n) < 0.3).astype(int), "kmer_DNase": rng.poisson(3, n),
                         "gc_rich": np.zeros(n, int), "n_fraction": 0.0})
    targets = truth_targets(bins)
    assert set(targets) == {"biology", "kmer_DNase"} and targets["biology"][0] == "biology"
    bio = rng.normal(size=(n, 4)); bio[:, 0] += 2 * bins["biology"]
    tech = rng.normal(size=(n, 4)); tech[:, 0] += bins["kmer_DNase"]
    table = probe_table({"bio": bio, "tech": tech}, targets).set_index("target")
    assert table.loc["biology", "metric"] == "AUROC" and table.loc["biology", "best"] == "bio"
    assert table.loc["kmer_DNase", "metric"] == "R2" and table.loc["kmer_DNase", "best"] == "tech"


def test_baseline_mean_auroc_is_the_baseline_evaluated_alone(tmp_path, monkeypatch, capsys):
    """mfd evaluate --baseline-model: the baseline on the same bins (same subset, same seed)."""
    import json
    import sys
    import types

    from mfd_model.cli import main
    from mfd_model.model_io import load_model, save_model

    fasta = write_fasta(tmp_path / "g.fa", {"chrA": random_dna(5000, seed=2)})
    names = ["e1", "e2", "e3"]
    labels = (np.random.default_rng(1).random((18, 3)) < 0.5).astype(np.float32)
    store = FakeStore(fasta, labels, np.arange(18) * 250 + 100, names)
    store.metadata = types.SimpleNamespace(frame=pd.DataFrame({"experiment": names, "assay": ["A", "A", "B"]}))
    fake = types.ModuleType("mfd_model.train.labels")
    fake.LabelStore = types.SimpleNamespace(open=lambda path: store)
    monkeypatch.setitem(sys.modules, "mfd_model.train.labels", fake)
    model = save_model(MFDModel(small_config(), names).eval(), tmp_path / "model.pt")
    baseline = save_model(MFDModel(small_config(seq_len=160), names).eval(), tmp_path / "baseline.pt")
    out = tmp_path / "ev"
    assert main(["evaluate", str(out), "-m", str(model), "--baseline-model", str(baseline), "--store", str(tmp_path),
                 "--max-bins", "12", "--seed", "3", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    performance = json.loads((out / "summary.json").read_text())["performance"]
    alone = {name: evaluate_store(load_model(path), store, max_bins=12, seed=3, progress=False)[0]
             for name, path in (("model", model), ("baseline", baseline))}
    assert performance["bins"] == 12
    assert performance["mean_auroc"] == pytest.approx(alone["model"]["auroc"].mean(), abs=1e-12)
    assert performance["baseline_mean_auroc"] == pytest.approx(alone["baseline"]["auroc"].mean(), abs=1e-12)
    assert performance["baseline_mean_auprc"] == pytest.approx(alone["baseline"]["auprc"].mean(), abs=1e-12)
    assert performance["baseline_mean_auroc"] != performance["mean_auroc"]
    report = (out / "report.md").read_text()
    assert "| model | 3 |" in report and "| baseline | 3 |" in report and "## The paper's claims, checked" in report
    claims = json.loads((out / "summary.json").read_text())["claims"]
    gap = performance["baseline_mean_auroc"] - performance["mean_auroc"]
    assert claims[0]["value"] == pytest.approx(gap) and claims[0]["passed"] == (gap <= 0.01)
    assert [c["passed"] for c in claims[1:]] == [None] * 5
    assert f"{'PASS' if gap <= 0.01 else 'FAIL'}         test-bin mean AUROC" in printed
    assert pd.read_csv(out / "performance_baseline.tsv", sep="\t")["auroc"].mean() == pytest.approx(
        performance["baseline_mean_auroc"], rel=1e-5)


# ============================================================================ the paper's claims
def _summary(mfd=0.80, base=0.805, table1=None, odds=None):
    table1 = {"baseline": 0.80, "full": 0.79, "bio": 0.78, "tech": 0.70} if table1 is None else table1
    odds = {("bias", "technical"): 5.0, ("bias", "biological"): 2.0, ("motif", "biological"): 8.3,
            ("motif", "technical"): 5.0} if odds is None else odds
    rows = [{"true_class": c, "cutoff": cutoff, "feature_set": s, "odds_ratio": o * (cutoff == "0.9") + 100 * (cutoff != "0.9")}
            for (c, s), o in odds.items() for cutoff in ("0.9", "0.99")]
    return {"performance": {"mean_auroc": mfd, "baseline_mean_auroc": base},
            "enhancers": {"mean_auroc": table1}, "variant_enrichment": rows}


def test_claims_pass_fail_and_missing():
    from mfd_model.evaluate.claims import check_claims, claim_lines

    passed = check_claims(_summary())
    assert [c["passed"] for c in passed] == [True] * 5 + [None]  # no bias_by_assay rows
    assert [c["value"] for c in passed[:5]] == pytest.approx([0.005, 0.01, 0.08, 3.0, 3.3])
    assert [c["bound"] for c in passed] == [0.01, 0.02, 0.0, 0.0, 0.0, 0.0]
    # each claim fails on its own; the 0.99 rows (odds ratio 100 everywhere) are not read
    failed = check_claims(_summary(mfd=0.78, base=0.80, table1={"baseline": 0.88, "full": 0.76, "bio": 0.6, "tech": 0.7},
                                   odds={("bias", "technical"): 2.0, ("bias", "biological"): 2.0,
                                         ("motif", "bio"): 1.5, ("motif", "tech"): 4.0}))
    assert [c["passed"] for c in failed] == [False] * 5 + [None]
    assert failed[0]["value"] == pytest.approx(0.02) and failed[1]["value"] == pytest.approx(0.12)
    # absent inputs: not checked, never an error
    assert [c["passed"] for c in check_claims({})] == [None] * 6
    partial = check_claims({"performance": {"mean_auroc": 0.8}, "enhancers": {"mean_auroc": {"full": 0.7, "bio": 0.7,
                                                                                            "tech": 0.6}},
                            "variant_enrichment": [{"true_class": "motif", "cutoff": "0.9", "feature_set": "biological",
                                                    "odds_ratio": float("nan")},
                                                   {"true_class": "motif", "cutoff": "0.9", "feature_set": "technical",
                                                    "odds_ratio": 2.0}]})
    assert [c["passed"] for c in partial] == [None, None, True, None, None, None]
    assert all(c["value"] is None for c in partial if c["passed"] is None)
    lines = claim_lines(partial)
    assert lines[0].startswith("NOT CHECKED  test-bin mean AUROC") and "--baseline-model" in lines[0]
    assert lines[2].startswith("PASS         Table 1")
    infinite = check_claims(_summary(odds={("bias", "technical"): float("inf"), ("bias", "biological"): 3.0,
                                           ("motif", "biological"): float("inf"), ("motif", "technical"): float("inf")}))
    assert infinite[3]["passed"] is True and infinite[4]["passed"] is False and infinite[4]["value"] is None


def _assay_rows(odds: dict[tuple[str, str], float], shares: dict[str, float]) -> list[dict]:
    return [{"assay": a, "separable_share": shares[a], "cutoff": cutoff, "feature_set": f,
             "odds_ratio_haldane": o if cutoff == 0.9 else 1.0} for (a, f), o in odds.items() for cutoff in (0.9, 0.99)]


def test_claim_bias_where_planted_judges_only_separable_assays():
    from mfd_model.evaluate.claims import check_claims
    odds = {("DNase-seq", "technical"): 1000.0, ("DNase-seq", "biological"): 10.0,
            ("ATAC-seq", "tech"): 50.0, ("ATAC-seq", "bio"): 5.0,
            ("ChIP-seq", "technical"): 2.0, ("ChIP-seq", "biological"): 20.0}   # ChIP-seq: not separable
    shares = {"DNase-seq": 0.75, "ATAC-seq": 0.5, "ChIP-seq": 0.0}
    claim = check_claims({"bias_by_assay": _assay_rows(odds, shares)})[5]
    # log10(1000 / 10) = 2, log10(50 / 5) = 1: the smaller one, PASS; ChIP-seq named, not judged
    assert claim["passed"] is True and claim["value"] == pytest.approx(1.0)
    assert "not judged" in claim["detail"] and "ChIP-seq" in claim["detail"].split("not judged")[1]
    odds[("ATAC-seq", "bio")] = 100.0       # one separable assay where biology wins: FAIL
    claim = check_claims({"bias_by_assay": _assay_rows(odds, shares)})[5]
    assert claim["passed"] is False and claim["value"] == pytest.approx(-np.log10(2))
    shares.update({"DNase-seq": 0.4, "ATAC-seq": 0.2})     # nothing separable: not checked
    claim = check_claims({"bias_by_assay": _assay_rows(odds, shares)})[5]
    assert claim["passed"] is None and claim["value"] is None and "not separable" in claim["detail"]
