"""``mfd motifs``: motif-level analyses of a model (the review's filter PWMs, GIA, de novo discovery).

    mfd motifs filters peaks.bed genome.fa filters.meme -m model.pt [--compare truth/motifs.meme]
    mfd motifs gia out.tsv -m model.pt --motif TGACTCA --random 500
    mfd motifs gia out.tsv -m model.pt --meme truth/motifs.meme --motif AP1 \\
        --background background.bed --fasta genome.fa --shuffle --unit CTCF
    mfd motifs discover peaks.bed genome.fa out/ -m model.pt --unit CTCF [--meme truth/motifs.meme] \\
        [--jaspar-release JASPAR2024 --jaspar-taxon vertebrates | --no-jaspar] [--kmer CCTTG]

One module per action, each with ``add_arguments(parser)`` and ``run(args)`` as a command:

``filters`` (:mod:`.filters`): first-layer filters as PWMs — positions where a filter's activation
exceeds ``--threshold`` x its maximum over the sequences are cut out (the filter's k + 1 input bases;
the first layer reads dinucleotides) and counted; MEME output plus logos, and with ``--compare`` the
most similar known motif per filter (:func:`mfd_model.interpret.filters.filter_motifs`).

``gia`` (:mod:`.gia`): global importance analysis — the motif is written into background sequences
(random with ``--gc``, given windows, or their dinucleotide shuffles) and the paired prediction
differences are tested (Wilcoxon signed-rank) per output / unit
(:func:`mfd_model.interpret.gia.motif_importance`).

``discover`` (:mod:`.discover`): DeepSHAP hypothetical contributions of one unit (or output) over the
windows -> TF-MoDISco patterns (modisco-lite) -> TomTom (memelite) against JASPAR (pyjaspar's shipped
database), a MEME file and / or exact k-mers -> ``report.md``, ``patterns.tsv``, ``matches.tsv``
(q-values), ``patterns.meme``, ``logos/`` (:func:`mfd_model.interpret.discover.discover_motifs`).
"""
from __future__ import annotations

import argparse
import importlib
from types import ModuleType

OUTPUTS = ("out",)  # the arguments that name what it writes (never one of its inputs)

# action -> (module, one-line help)
ACTIONS: dict[str, tuple[str, str]] = {
    "filters": (".filters", "first-layer filters -> PWMs (MEME format)"),
    "gia": (".gia", "global importance analysis of a motif"),
    "discover": (".discover", "de novo motifs of a unit: DeepSHAP -> TF-MoDISco -> TomTom"),
}


def _action(name: str) -> ModuleType:
    """The module of one action (``add_arguments`` and ``run``)."""
    return importlib.import_module(ACTIONS[name][0], __name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    for name, (_, help_text) in ACTIONS.items():
        _action(name).add_arguments(sub.add_parser(name, help=help_text, description=help_text))


def run(args: argparse.Namespace) -> int:
    if args.action in ACTIONS:
        return _action(args.action).run(args)
    from ...errors import MFDError
    raise MFDError("choose an action: filters, gia or discover",
                   fix="run 'mfd motifs filters ...', 'mfd motifs gia ...' or 'mfd motifs discover ...'")
