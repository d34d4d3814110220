"""Enhancer classification from frozen features (paper section 3.2, Table 1).

Per tissue: positive (enhancer) and negative (background) sequences are embedded by the
model; for each feature set (bio / tech / full, and a baseline model's features) an L2
logistic regression predicts enhancer vs background. As in the paper's code: a stratified
80/20 train/test split, balanced class weights, the regularisation strength ``C`` chosen by
stratified k-fold cross-validation on the training part with ROC AUC scoring, then refit on
the whole training part and scored by AUROC on the held-out 20 %. Features are standardised
(fitted on the training part only). Every feature set of a tissue sees the same split.
The table reports the AUROC per tissue and the mean over tissues, like the paper's Table 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import MFDError

DEFAULT_CS = tuple(float(c) for c in np.logspace(-4, 2, 7))


@dataclass
class ClassifierResult:
    """One feature set on one tissue.

    Attributes:
        auroc: test-set AUROC (mean over repeats).
        best_c: the chosen C (of the first repeat).
        cv_auroc: cross-validated training AUROC at that C (first repeat).
        n_train, n_test: sequences in each part; n_features: feature dimension.
        aurocs: the test AUROC of every repeat.
    """

    auroc: float
    best_c: float
    cv_auroc: float
    n_train: int
    n_test: int
    n_features: int
    aurocs: tuple[float, ...]


def single_threaded_blas():
    """Small logistic regressions run ~10x faster on one BLAS thread (no spin-waiting threads)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def split_indices(y: np.ndarray, *, test_size: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train / test row indices, in scikit-learn's order (so that
    ``train_test_split(X, y, stratify=y, random_state=seed)`` gives ``X[train], X[test]``)."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(np.arange(len(y)), test_size=test_size, stratify=y, random_state=seed)
    return train, test


def _check_labels(y: np.ndarray, folds: int, test_size: float) -> int:
    values, counts = np.unique(y, return_counts=True)
    if len(values) != 2 or set(values.tolist()) - {0, 1}:
        raise MFDError(f"enhancer labels must be 0/1 with both classes present, got classes {values.tolist()}",
                       fix="give both a positive (enhancer) and a negative (background) set")
    smallest = int(counts.min())
    train_smallest = smallest - int(np.ceil(smallest * test_size))
    if smallest < 5 or train_smallest < 2:
        raise MFDError(f"too few sequences in the smaller class ({smallest}) for a stratified "
                       f"{int(round((1 - test_size) * 100))}/{int(round(test_size * 100))} split with cross-validation",
                       fix="use at least 5 sequences per class (tens or more for a meaningful AUROC)")
    return max(2, min(folds, train_smallest))


def classify(features: np.ndarray, y: np.ndarray, *, train: np.ndarray, test: np.ndarray,
             Cs: Sequence[float] = DEFAULT_CS, folds: int = 5, seed: int = 0, max_iter: int = 5000
             ) -> tuple[float, float, float]:
    """Fit the L2 logistic regression on ``train`` (C by CV) and score AUROC on ``test``.

    Args:
        features: shape=(N, d).
        y: 0/1 labels, shape=(N,).
        train, test: row indices.
        Cs: inverse regularisation strengths to choose from.
        folds: cross-validation folds (stratified, shuffled with ``seed``).
    Returns:
        ``(test AUROC, best C, mean cross-validated AUROC at best C)``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(features, dtype=np.float64)
    y = np.asarray(y).astype(int)
    pipeline = Pipeline([("scale", StandardScaler()),
                         ("logreg", LogisticRegression(class_weight="balanced", max_iter=max_iter))])
    search = GridSearchCV(pipeline, {"logreg__C": list(Cs)}, scoring="roc_auc",
                          cv=StratifiedKFold(folds, shuffle=True, random_state=seed), refit=True)
    with single_threaded_blas():
        search.fit(X[train], y[train])
        auroc = float(roc_auc_score(y[test], search.decision_function(X[test])))
    return auroc, float(search.best_params_["logreg__C"]), float(search.best_score_)


def enhancer_classification(feature_sets: Mapping[str, np.ndarray], y: np.ndarray, *,
                            Cs: Sequence[float] = DEFAULT_CS, folds: int = 5, test_size: float = 0.2,
                            repeats: int = 1, seed: int = 0) -> dict[str, ClassifierResult]:
    """All feature sets of one tissue on the same split(s).

    Args:
        feature_sets: name -> features, shape=(N, d) each, rows aligned with ``y``.
        y: 0/1 labels (1 = enhancer), shape=(N,).
        repeats: independent random splits (seeds ``seed .. seed + repeats - 1``); AUROCs averaged.
    Returns:
        name -> :class:`ClassifierResult`.
    """
    y = np.asarray(y).astype(int)
    folds = _check_labels(y, folds, test_size)
    for name, values in feature_sets.items():
        if len(values) != len(y):
            raise ValueError(f"feature set {name!r} has {len(values)} rows, labels have {len(y)}")
    results: dict[str, list] = {name: [] for name in feature_sets}
    for r in range(repeats):
        train, test = split_indices(y, test_size=test_size, seed=seed + r)
        for name, values in feature_sets.items():
            results[name].append((classify(values, y, train=train, test=test, Cs=Cs, folds=folds, seed=seed + r),
                                  len(train), len(test), np.asarray(values).shape[1]))
    out = {}
    for name, runs in results.items():
        aurocs = tuple(run[0][0] for run in runs)
        (_, best_c, cv_auroc), n_train, n_test, n_features = runs[0]
        out[name] = ClassifierResult(float(np.mean(aurocs)), best_c, cv_auroc, n_train, n_test, n_features, aurocs)
    return out


def enhancer_table(results: Mapping[str, Mapping[str, ClassifierResult]],
                   order: Sequence[str] = ("baseline", "full", "bio", "tech")) -> pd.DataFrame:
    """Table 1: one row per tissue plus ``mean``, one AUROC column per feature set.

    Args:
        results: tissue -> feature set -> result.
        order: preferred column order (others follow).
    Returns:
        DataFrame indexed by tissue (last row ``mean``); columns are feature sets.
    """
    frame = pd.DataFrame({tissue: {name: r.auroc for name, r in per_set.items()}
                          for tissue, per_set in results.items()}).T
    columns = [c for c in order if c in frame.columns] + [c for c in frame.columns if c not in order]
    frame = frame[columns]
    frame.loc["mean"] = frame.mean(axis=0)
    frame.index.name = "tissue"
    return frame
