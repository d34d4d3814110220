"""Interpretation: what the biological and technical features respond to (paper section 3.1).

One module per idea, in the order an analysis runs:

    windows      BED intervals -> model-sized windows on the genome (skips counted)
    embed        bio / tech / full features, forward / reverse / mean / concat, shift averaging
    targets      what to explain: an output (experiment) or a latent unit (by index or name)
    ersatz       sequence edits (substitutions, motif insertion, backgrounds, shuffles); no model calls
    attribution  Integrated Gradients (Captum neuron attribution on the latent layer), gradient x input
    deeplift     DeepLIFT (rescale rule) / DeepSHAP, exact: the dinucleotide step as linear + ReLU
    ism          in-silico saturation mutagenesis (full, or fast local recomputation: mfd_model.local)
    profiles     attribution profiles around motif sites minus a baseline profile (paper Figs 2-3)
    around_sites attribute_around_sites -> SiteAttribution: sites, baseline, targets, files (mfd attribute)
    motifs       the PWM (Motif), MEME I/O, motif similarity
    filters      first-layer filters -> PWMs, matched to known motifs (mfd motifs filters)
    gia          global importance analysis (motif inserted vs not, Wilcoxon signed-rank; mfd motifs gia)
    discover     de novo motifs: DeepSHAP hypothetical contributions -> TF-MoDISco -> TomTom (JASPAR, MEME)
    plots        profile plots and sequence logos (PNG)
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "Windows": "windows", "centred_windows": "windows", "read_windows": "windows", "random_windows": "windows",
    "embed_windows": "embed", "write_embedding": "embed", "Embedding": "embed",
    "Target": "targets", "resolve_targets": "targets", "output_target": "targets", "unit_target": "targets",
    "target_values": "targets",
    "integrated_gradients": "attribution", "gradient_x_input": "attribution", "attribute": "attribution",
    "deep_lift_shap": "deeplift", "DeepLiftNetwork": "deeplift",
    "saturation_mutagenesis": "ism", "ism_to_contributions": "ism",
    "attribute_around_sites": "around_sites", "SiteAttribution": "around_sites",
    "position_scores": "profiles", "site_profile": "profiles", "Profile": "profiles",
    "Motif": "motifs", "read_meme": "motifs", "write_meme": "motifs", "match_motifs": "motifs",
    "filter_pwms": "filters", "filter_motifs": "filters", "FilterMotifs": "filters",
    "global_importance": "gia", "motif_importance": "gia", "MotifImportance": "gia",
    "discover_motifs": "discover", "find_patterns": "discover", "tomtom_matches": "discover",
    "jaspar_motifs": "discover", "motif_database": "discover", "MotifDatabase": "discover",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
