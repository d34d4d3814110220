"""Attributions around a set of sites minus a baseline, and the folder they write (``mfd attribute``).

:func:`attribute_around_sites` reads the sites (a random subset of at most ``max_sites``), the
baseline windows (``background`` BED, else random genome windows avoiding the sites, none with
``baseline=False``), chooses the targets (outputs and / or latent units; default the named units,
at most :data:`MAX_DEFAULT_TARGETS`) and attributes every window
(:func:`mfd_model.interpret.sites.attribute_sites`). The :class:`SiteAttribution` it returns
writes ``profiles.tsv``, ``central_signal.tsv/.md``, the profile and logo figures,
``attributions.npz``, ``deltas.tsv`` (DeepLIFT) and ``summary.json``.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import MFDError

MAX_DEFAULT_TARGETS = 16


@dataclass
class SiteAttribution:
    """The attributions of the sites (and baseline windows) for the targets, with the settings that
    shape the files: ``result.attributions`` is (N sites, T targets, 4, L), ``signal`` the central
    signal table (one row per target), ``deltas`` the DeepLIFT convergence deltas (a row per window
    and target) or ``None``."""

    method: str
    sites: Any            # Windows: the N sites attributed
    background: Any       # Windows of the baseline, or None
    background_path: str | None
    targets: list
    result: Any           # interpret.sites attribution result
    deltas: Any           # DataFrame or None
    signal: Any           # DataFrame
    seq_len: int
    flank: int
    logos: int
    save_raw: bool
    references: int
    seed: int
    delta_warning: float
    model_info: dict

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self.targets]

    def summary(self) -> dict:
        """``summary.json``: method, targets, site counts, baseline, window, model, DeepLIFT deltas."""
        profile, sites = self.result.profile, self.sites
        summary = {"method": self.method, "targets": self.labels, "sites_read": sites.n_read,
                   "sites_usable": sites.usable, "sites_attributed": len(sites), "skipped": sites.skipped,
                   "baseline": (profile.n_baseline if self.background is not None else 0),
                   "baseline_source": (self.background_path or ("random windows" if self.background is not None
                                                                else None)),
                   "window": list(self.result.window), "model_info": self.model_info}
        if self.deltas is not None:
            summary["deeplift"] = {"references": self.references, "seed": self.seed,
                                   "max_abs_delta": float(self.deltas["max_abs_delta"].max()),
                                   "windows_past_warning": int((self.deltas["max_abs_delta"] > self.delta_warning).sum()),
                                   "delta_warning": self.delta_warning}
        return summary

    def write(self, outdir: str | Path) -> None:
        """Write every file into ``outdir`` (all or nothing)."""
        import numpy as np

        from ..evaluate.report import write_table
        from ..outputs import StagedDir
        from .plots import plot_attribution_logos, plot_profiles
        from .profiles import profile_table
        from .sites import mean_attribution_matrix

        result, profile, sites, labels, length = self.result, self.result.profile, self.sites, self.labels, self.seq_len
        with StagedDir(outdir) as out:
            profile_table(profile).to_csv(out / "profiles.tsv", sep="\t", index=False, float_format="%.6g")
            write_table(self.signal, out, "central_signal")
            plot_profiles(profile, out / "profile.png", flank=self.flank,
                          title=f"{self.method.upper()} around {profile.n_sites} sites"
                                + (f" minus {profile.n_baseline} baseline windows" if profile.n_baseline else ""))
            plot_profiles(profile, out / "profile_window.png", flank=length // 2, title="whole window")
            matrix, positions = mean_attribution_matrix(result, half_width=min(25, self.flank))
            plot_attribution_logos(matrix, labels, out / "logo_mean.png", positions=positions,
                                   title=f"mean attribution over {profile.n_sites} aligned sites")
            centre = length // 2
            lo, hi = max(centre - 30, 0), min(centre + 31, length)
            for k in range(min(self.logos, len(sites))):
                plot_attribution_logos(result.attributions[k, :, :, lo:hi], labels, out / f"logo_site_{k}.png",
                                       positions=np.arange(lo, hi) - centre, title=str(sites.ids[k]))
            arrays = {"ids": sites.ids.astype(str), "chrom": sites.chrom.astype(str), "start": sites.start,
                      "strand": sites.strand.astype(str), "targets": np.array(labels),
                      "scores": result.attributions.sum(axis=2).astype(np.float32),
                      "window": np.array(result.window)}
            if result.background is not None:
                arrays["background_scores"] = result.background.sum(axis=2).astype(np.float32)
            if self.save_raw:
                arrays["attributions"] = result.attributions
                arrays["one_hot"] = result.X.astype(np.uint8)
                if result.ism_effects is not None:
                    arrays["ism_effects"] = result.ism_effects
            np.savez_compressed(out / "attributions.npz", **arrays)
            if self.deltas is not None:
                self.deltas.to_csv(out / "deltas.tsv", sep="\t", index=False, float_format="%.3g")
            (out / "summary.json").write_text(json.dumps(self.summary(), indent=2, default=str))

    def counts(self) -> str:
        """One line: sites read / skipped / attributed and the baseline (for stderr)."""
        n_baseline = self.result.profile.n_baseline
        return (f"mfd attribute: {self.sites.skip_summary()}; attributed {len(self.sites)}"
                + (f", baseline {n_baseline} windows" + (" (random)" if not self.background_path else "")
                   if n_baseline else ", no baseline"))

    def report(self) -> str:
        """The central signal table and, for DeepLIFT, the largest convergence delta."""
        from ..evaluate.report import text_table

        text = (f"attribution on the sites ({self.method}): mean |score| within ±10 bp of the centre, in the "
                f"±{self.flank} bp flanks, and at the same positions of the baseline windows:\n"
                + text_table(self.signal))
        if self.deltas is not None:
            text += ("\nDeepLIFT convergence deltas (sum of contributions - (f(x) - f(reference))): largest |delta| "
                     f"{float(self.deltas['max_abs_delta'].max()):.3g}")
        return text

    def warning(self) -> str | None:
        """The warning about windows whose DeepLIFT delta exceeds ``delta_warning``, if any."""
        if self.deltas is None:
            return None
        worst = float(self.deltas["max_abs_delta"].max())
        past = self.deltas[self.deltas["max_abs_delta"] > self.delta_warning]
        if not len(past):
            return None
        return (f"mfd attribute: warning: {past['window'].nunique()} window(s) have |delta| > {self.delta_warning:g} "
                f"(largest {worst:.3g}): their attributions do not sum to f(x) - f(reference); see deltas.tsv")


def choose_targets(model: Any, outputs: Sequence[str], units: Sequence[str], group: str | None) -> list:
    """The outputs and units named, else the model's named units (the first :data:`MAX_DEFAULT_TARGETS`)."""
    from .targets import default_unit_targets, resolve_targets

    if outputs or units:
        return resolve_targets(model, list(outputs), list(units), group)
    targets = default_unit_targets(model)
    if len(targets) > MAX_DEFAULT_TARGETS:
        print(f"mfd attribute: explaining the first {MAX_DEFAULT_TARGETS} of {len(targets)} named units "
              f"(choose others with --unit)", file=sys.stderr)
        targets = targets[:MAX_DEFAULT_TARGETS]
    return targets


def attribute_around_sites(model: Any, sites_bed: str, fasta: str, targets: list, *, method: str = "ig",
                           max_sites: int = 500, background_bed: str | None = None,
                           random_background: int | None = None, baseline: bool = True, orient: bool = True,
                           ism_window: int | None = None, steps: int = 50, scale: str = "logit",
                           references: int = 10, delta_warning: float = 1e-3, seed: int = 0, flank: int = 50,
                           logos: int = 3, save_raw: bool = False, batch_size: int | None = None,
                           device: str | None = None, progress: bool = True) -> SiteAttribution:
    """Attribute the ``targets`` on at most ``max_sites`` windows centred on the sites, and on the
    baseline windows; ``ism_window`` ``None`` or 0 mutates the whole window."""
    import pandas as pd

    from ..bed import read_bed
    from ..genome import Genome
    from ..sampling import random_subset
    from .deeplift import delta_table
    from .profiles import central_signal
    from .sites import attribute_sites
    from .windows import random_windows, read_windows

    genome = Genome(fasta)
    length = model.config.seq_len
    sites = read_windows(sites_bed, genome, length, what="sites BED")
    sites = random_subset(sites, max_sites, seed)
    background = None
    if baseline:
        if background_bed:
            background = read_windows(background_bed, genome, length, what="background BED")
            n_bg = random_background or min(len(background), max_sites)
            background = random_subset(background, n_bg, seed + 1)
        else:
            n_bg = random_background if random_background is not None else min(len(sites), 500)
            if n_bg > 0:
                background = random_windows(genome, n_bg, length, seed=seed, max_n_fraction=0.05,
                                            exclude=read_bed(sites_bed))
                if not len(background):
                    raise MFDError("could not draw random baseline windows (genome too small or too many N)",
                                   path=fasta, fix="pass --background BED, or --no-baseline")
    result = attribute_sites(model, sites, targets, method=method, background=background, orient=orient,
                             ism_window=ism_window or None, n_steps=steps, scale=scale, n_references=references,
                             seed=seed, delta_warning=None, batch_size=batch_size, device=device, progress=progress)
    deltas = None
    if result.deltas is not None:
        deltas = delta_table(result.deltas, sites.ids, targets, "site")
        if result.background_deltas is not None:
            deltas = pd.concat([deltas, delta_table(result.background_deltas, background.ids, targets, "baseline")],
                               ignore_index=True)
    return SiteAttribution(method=method, sites=sites, background=background, background_path=background_bed,
                           targets=targets, result=result, deltas=deltas,
                           signal=central_signal(result.profile, half_width=10, flank=flank), seq_len=length,
                           flank=flank, logos=logos, save_raw=save_raw, references=references, seed=seed,
                           delta_warning=delta_warning, model_info=getattr(model, "info", {}))
