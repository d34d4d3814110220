"""The site analysis of paper Figs 2-3 in one call: attribute site-centred windows and a
baseline set, then average into profiles.

    sites (Windows, oriented by strand) --attribute--> (N, T, 4, L)
    baseline windows                    --attribute--> (M, T, 4, L)
    -> Profile (site average minus baseline average, signed and absolute)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..model import MFDModel
from .attribution import attribute
from .deeplift import deep_lift_shap
from .ism import ism_to_contributions
from .profiles import Profile, position_scores, site_profile
from .targets import Scale, Target
from .windows import Windows


@dataclass
class SiteAttributions:
    """Attributions of site windows (and baseline windows) for several targets.

    Attributes:
        targets: the T targets.
        method: ``ig``, ``grad``, ``ism`` or ``deepliftshap``.
        X: site one-hot, shape=(N, 4, L) (``-`` strand sites reverse-complemented if oriented).
        attributions: shape=(N, T, 4, L), non-zero at present bases only (ISM is mean-centred
            by :func:`.ism.ism_to_contributions`).
        ism_effects: raw ISM effects shape=(N, T, 4, L) (``None`` unless ``method="ism"``).
        background: baseline attributions shape=(M, T, 4, L), or ``None``.
        profile: the averaged :class:`.profiles.Profile`.
        window: ``[start, end)`` of positions attributed (the ISM window; whole sequence otherwise).
        deltas: DeepSHAP's convergence deltas of the sites, shape=(N, T, R) (``None`` for other methods).
        background_deltas: the same for the baseline windows, shape=(M, T, R), or ``None``.
    """

    targets: list[Target]
    method: str
    X: np.ndarray
    attributions: np.ndarray
    ism_effects: np.ndarray | None
    background: np.ndarray | None
    profile: Profile
    window: tuple[int, int]
    deltas: np.ndarray | None = None
    background_deltas: np.ndarray | None = None


def _attribute(model: MFDModel, X: np.ndarray, targets: Sequence[Target], method: str, window: tuple[int, int],
               delta_warning: float | None = None, **kwargs) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(contributions, raw ISM effects or None, DeepSHAP deltas or None)`` of one set of windows."""
    if method == "deepliftshap":
        kwargs.pop("n_steps")
        attr, deltas = deep_lift_shap(model, X, targets, warning_threshold=delta_warning,
                                      **{**kwargs, "batch_size": kwargs["batch_size"] or 16})
        return attr, None, deltas
    kwargs = {k: v for k, v in kwargs.items() if k not in ("n_references", "seed")}
    attr = attribute(model, X, targets, method=method, ism_start=window[0], ism_end=window[1], **kwargs)
    if method == "ism":
        return ism_to_contributions(attr, X), attr, None
    return attr, None, None


def attribute_sites(model: MFDModel, sites: Windows, targets: Sequence[Target], *, method: str = "ig",
                    background: Windows | None = None, orient: bool = True, ism_window: int | None = None,
                    n_steps: int = 50, scale: Scale = "logit", n_references: int = 10, seed: int = 0,
                    delta_warning: float | None = 1e-3, batch_size: int | None = None,
                    device: str | None = None, progress: bool = True) -> SiteAttributions:
    """Attribute every site window and the baseline windows; average into a profile.

    Args:
        sites: windows centred on motif sites / footprints.
        targets: outputs and/or latent units.
        method: ``ig`` (Integrated Gradients), ``grad`` (gradient x input), ``ism`` or
            ``deepliftshap`` (DeepLIFT over ``n_references`` dinucleotide shuffles, seeded by ``seed``).
        background: windows without peaks for the baseline profile (``None``: no correction).
        orient: reverse-complement windows of ``-`` strand sites.
        ism_window: for ISM, mutate only the central ``ism_window`` bp (default: all).
        delta_warning: DeepSHAP warns when a convergence delta exceeds it (``None``: never).
    Returns:
        :class:`SiteAttributions`.
    """
    length = sites.seq_len
    window = (0, length)
    if method == "ism" and ism_window is not None and ism_window < length:
        start = length // 2 - ism_window // 2
        window = (start, start + ism_window)
    kwargs = dict(n_steps=n_steps, scale=scale, n_references=n_references, seed=seed, delta_warning=delta_warning,
                  batch_size=batch_size, device=device, progress=progress)
    X = sites.one_hot(orient=orient)
    attributions, effects, deltas = _attribute(model, X, targets, method, window, **kwargs)
    background_attr = background_deltas = None
    if background is not None and len(background):
        background_attr, _, background_deltas = _attribute(model, background.one_hot(), targets, method, window,
                                                           **kwargs)
    labels = [t.label for t in targets]
    profile = site_profile(position_scores(attributions), labels,
                           None if background_attr is None else position_scores(background_attr))
    return SiteAttributions(list(targets), method, X, attributions, effects, background_attr, profile, window,
                            deltas, background_deltas)


def mean_attribution_matrix(result: SiteAttributions, half_width: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Average attribution per base and position around the centre (an aggregate logo).

    Returns:
        ``(matrix, positions)``: the mean over sites, shape=(T, 4, 2 half_width + 1), and
        positions relative to the centre. Sites are aligned (and oriented), so a motif the
        target responds to shows as letters; scattered signal averages out.
    """
    length = result.X.shape[2]
    centre = length // 2
    lo, hi = max(centre - half_width, 0), min(centre + half_width + 1, length)
    matrix = result.attributions[:, :, :, lo:hi].mean(axis=0)                       # (T, 4, W)
    return matrix, np.arange(lo, hi) - centre
