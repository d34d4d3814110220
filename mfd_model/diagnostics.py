"""Disentanglement diagnostics: what each latent subspace knows.

* :func:`probe_score` — a cross-validated linear probe from a feature set to a known
  per-sequence quantity (planted biology, planted technical bias): AUROC for a binary
  target, R^2 for a continuous one. "Biological features predict the planted biology
  better than technical features do" is ``probe_score(bio, y) > probe_score(tech, y)``.
* :func:`cross_subspace_correlation` — mean squared Pearson correlation over all
  (bio unit, tech unit) pairs: the linear dependence the penalty should remove.
* :func:`posthoc_adversary_r2` — refit fresh adversaries (as in paper Eq. 3) on half of
  the data and report the R2 they reach on the other half: the non-linear dependence
  left between the subspaces, independent of the adversaries seen during training.
"""
from __future__ import annotations

import numpy as np
import torch

from .independence import Adversary, cross_correlation_penalty, r2_penalty


def _is_binary(y: np.ndarray) -> bool:
    values = np.unique(y)
    return values.size <= 2 and set(values.tolist()) <= {0, 1, 0.0, 1.0, True, False}


def probe_score(features: np.ndarray, target: np.ndarray, *, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated linear probe quality.

    Args:
        features: shape=(N, d).
        target: shape=(N,), binary (-> L2 logistic regression, mean out-of-fold AUROC) or
            continuous (-> ridge regression, out-of-fold R^2).
        folds: cross-validation folds (stratified for binary targets).
    Returns:
        AUROC in [0, 1] (0.5 = chance) or R^2 (0 = chance; can be negative).
    """
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.metrics import r2_score, roc_auc_score
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(features, dtype=np.float64)
    y = np.asarray(target)
    if _is_binary(y):
        y = y.astype(int)
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
        scores = cross_val_predict(model, X, y, cv=splitter, method="predict_proba")[:, 1]
        return float(roc_auc_score(y, scores))
    splitter = KFold(folds, shuffle=True, random_state=seed)
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    predicted = cross_val_predict(model, X, y.astype(np.float64), cv=splitter)
    return float(r2_score(y, predicted))


def cross_subspace_correlation(bio: np.ndarray | torch.Tensor, tech: np.ndarray | torch.Tensor) -> float:
    """Mean squared Pearson correlation over all (bio unit, tech unit) pairs.

    Args:
        bio: shape=(N, d1); tech: shape=(N, d2).
    Returns:
        a value in [0, 1]: 0 for linearly independent subspaces.
    """
    bio, tech = torch.as_tensor(bio, dtype=torch.float64), torch.as_tensor(tech, dtype=torch.float64)
    return float(cross_correlation_penalty(bio, tech)) / (bio.shape[1] * tech.shape[1])


def posthoc_adversary_r2(bio: np.ndarray | torch.Tensor, tech: np.ndarray | torch.Tensor, *,
                         hidden: int = 128, layers: int = 2, steps: int = 300, lr: float = 1e-3,
                         seed: int = 0) -> tuple[float, float]:
    """Held-out R2 (per dimension, averaged) of fresh adversaries predicting one subspace from the other.

    Args:
        bio: shape=(N, d); tech: shape=(N, d).
    Returns:
        ``(bio_from_tech, tech_from_bio)``: mean squared correlation per dimension on the held-out
        half, in [0, 1] (0: nothing predictable).
    """
    generator = torch.Generator().manual_seed(seed)
    bio, tech = torch.as_tensor(bio, dtype=torch.float32), torch.as_tensor(tech, dtype=torch.float32)
    order = torch.randperm(bio.shape[0], generator=generator)
    fit, held = order[: bio.shape[0] // 2], order[bio.shape[0] // 2:]
    results = []
    for source, target in ((tech, bio), (bio, tech)):
        torch.manual_seed(seed)
        adversary = Adversary(source.shape[1], target.shape[1], hidden, layers)
        optimiser = torch.optim.Adam(adversary.parameters(), lr=lr, amsgrad=True)
        for _ in range(steps):
            batch = fit[torch.randint(len(fit), (min(256, len(fit)),), generator=generator)]
            optimiser.zero_grad()
            (-r2_penalty(adversary(source[batch]), target[batch])).backward()
            optimiser.step()
        adversary.eval()
        with torch.no_grad():
            results.append(float(r2_penalty(adversary(source[held]), target[held])) / target.shape[1])
    return results[0], results[1]
