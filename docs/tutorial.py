"""Tutorial: what did the biological and the technical features learn?

    python docs/tutorial.py -m model.pt --simulated build/sim            # simulated data + real files
    python docs/tutorial.py -m model.pt                                   # real files only
    python docs/tutorial.py --untrained --simulated build/sim --quick     # smoke run of the pipeline

Runs the analyses of docs/interpretation.md and writes every table and figure under
``--out`` (default ``build/tutorial``):

Part A, simulated data (``mfd simulate DIR``, where the truth is known):
  A1  attributions of the named units around planted motif sites, minus random baseline windows
  A2  first-layer filters as PWMs, matched against the planted motifs
  A3  global importance analysis: each planted motif inserted into random backgrounds
  A4  ``mfd evaluate``: enhancer classification (Table 1), variant enrichment (Table 2, when
      ``--variant-scores`` from ``mfd score-variants`` is given), prediction performance (when
      ``--store`` from ``mfd prepare`` is given) and disentanglement diagnostics vs the truth

Part B, real files in ../shared/data (hg38 chr1:0-1 Mb):
  B1  bio / tech / full embeddings of the FANTOM5 enhancers in the window
  B2  enhancer classification, FANTOM5 enhancers vs random genome windows (8 positives: this
      shows that real files flow through, it cannot judge a model)
  B3  attributions around the CTCF ChIP-seq summits (ENCODE K562), minus random windows
  B4  global importance of the CTCF core motif in dinucleotide-shuffled real windows

``--untrained`` builds a random-weight MFD model (from the simulated metadata when given) to
check the pipeline; its numbers mean nothing.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mfd_model.cli import main as mfd  # noqa: E402

CTCF_CORE = "CCACCAGGGGGCGC"      # JASPAR MA0139.1 core (CTCF), 14 bp

TOY_METADATA = """experiment\ttarget\ttissue\tassay\tlab
ctcf_k562\tCTCF\tK562\tChIP-seq\tBernstein
dnase_k562\tAccessible DNA\tK562\tDNase-seq\tStam
atac_liver\tAccessible DNA\tliver\tATAC-seq\tSnyder
h3k27ac_liver\tH3K27ac\tliver\tChIP-seq\tBernstein
"""
TOY_SCHEMA = """id_column: experiment
biological:
  direct: [{column: target}]
  interact: [{column: tissue}]
technical:
  direct: [{column: assay}]
  interact: [{column: lab}]
"""


def step(title: str) -> float:
    print(f"\n{'=' * 100}\n{title}\n{'=' * 100}", flush=True)
    return time.time()


def run(argv: list[str]) -> None:
    print("$ mfd " + " ".join(argv), flush=True)
    code = mfd(argv)
    if code != 0:
        raise SystemExit(f"mfd {argv[0]} failed (exit {code})")


def untrained_model(out: Path, simulated: Path | None) -> Path:
    """A random-weight MFD model on the simulated (or a built-in toy) metadata: pipeline checks only."""
    from mfd_model import MFDModel, ModelConfig, load_metadata, save_model

    if simulated is not None and (simulated / "metadata.tsv").exists():
        table_path, schema_path = simulated / "metadata.tsv", simulated / "schema.yaml"
    else:
        out.mkdir(parents=True, exist_ok=True)
        table_path, schema_path = out / "toy_metadata.tsv", out / "toy_schema.yaml"
        table_path.write_text(TOY_METADATA)
        schema_path.write_text(TOY_SCHEMA)
    table, encoder, _ = load_metadata(table_path, schema_path)
    model = MFDModel(ModelConfig(channels=32, interact_hidden=16), table.experiment_names(encoder.schema),
                     encoder=encoder, table=table, info={"note": "untrained, for pipeline checks only"})
    return save_model(model.eval(), out / "untrained.pt")


def pick_units(model, wanted: list[str]) -> list[str]:
    """``--unit`` arguments for the wanted direct factors the model has (bio first, then tech)."""
    out = []
    for name in wanted:
        try:
            model.unit_index(name)
            out += ["--unit", name]
        except Exception:                                  # the model has no such direct factor
            continue
    return out


# ============================================================================ part A
def part_a(args, model_path: Path, model, out: Path) -> None:
    import pandas as pd

    from mfd_model.interpret.ersatz import motif_one_hot, random_sequences
    from mfd_model.interpret.gia import global_importance
    from mfd_model.interpret.motifs import read_meme
    from mfd_model.interpret.targets import default_unit_targets

    sim = args.simulated
    truth = sim / "truth"
    n_sites = "40" if args.quick else "400"

    step("A1  attributions of the named units around planted motif sites (paper Figs 2-3)")
    run(["attribute", str(truth / "motif_sites.bed"), str(sim / "genome.fa"), str(out / "A1_attribution"),
         "-m", str(model_path), "--max-sites", n_sites, "--random-background", n_sites, "--steps",
         "8" if args.quick else "32", "--no-progress"])

    step("A2  first-layer filters as PWMs, matched against the planted motifs")
    run(["motifs", "filters", str(truth / "motif_sites.bed"), str(sim / "genome.fa"),
         str(out / "A2_filters" / "filters.meme"), "-m", str(model_path), "--compare", str(truth / "motifs.meme"),
         "--max-sequences", "300" if args.quick else "1500", "--min-sites", "5"])

    step("A3  global importance analysis: each planted motif (consensus) inserted into random backgrounds")
    motifs = read_meme(truth / "motifs.meme")
    background = random_sequences(64 if args.quick else 256, model.config.seq_len, gc=0.41, seed=0)
    targets = default_unit_targets(model)
    tables = []
    for motif in motifs:
        table = global_importance(model, background, motif_one_hot(motif.consensus), targets)
        table.insert(0, "motif", motif.name)
        tables.append(table)
    gia = pd.concat(tables, ignore_index=True)
    (out / "A3_gia").mkdir(parents=True, exist_ok=True)
    gia.to_csv(out / "A3_gia" / "gia.tsv", sep="\t", index=False, float_format="%.4g")
    effect = gia.pivot(index="motif", columns="target", values="effect")
    print("mean effect of inserting each motif (rows) on each named unit (columns):")
    print(effect.round(3).to_string())
    print(f"wrote {out / 'A3_gia' / 'gia.tsv'}")

    step("A4  mfd evaluate: Table 1, Table 2, performance, disentanglement diagnostics")
    argv = ["evaluate", str(out / "A4_evaluate"), "-m", str(model_path), "--simulated", str(sim), "--no-progress"]
    if args.baseline_model:
        argv += ["--baseline-model", str(args.baseline_model)]
    if args.store:
        argv += ["--store", str(args.store)]
    if args.variant_scores:
        argv += ["--variant-scores", str(args.variant_scores)]
    if args.quick:
        argv += ["--max-per-class", "200", "--diagnostic-bins", "600", "--adversary-steps", "100", "--max-bins", "3000"]
    run(argv)


# ============================================================================ part B
def part_b(args, model_path: Path, model, out: Path) -> None:
    from mfd_model.genome import Genome
    from mfd_model.interpret.embed import embed_windows, write_embedding
    from mfd_model.interpret.ersatz import dinucleotide_shuffle, motif_one_hot
    from mfd_model.interpret.gia import global_importance
    from mfd_model.interpret.targets import default_unit_targets
    from mfd_model.interpret.windows import random_windows, read_windows

    data = args.shared_data / "hg38_chr1_1mb"
    fasta = data / "hg38_1m.fa.gz"
    enhancers = data / "annotations" / "F5.hg38.enhancers.bed.gz"
    ctcf = data / "peaks" / "ENCSR000AKO_CTCF_K562.narrowPeak.gz"
    genome = Genome(fasta)
    sets = ["bio", "tech", "full"] if model.is_mfd else ["full"]

    step("B1  embeddings of the FANTOM5 enhancers in hg38 chr1:0-1 Mb (Python API)")
    windows = read_windows(enhancers, genome, model.config.seq_len)
    print(windows.skip_summary())
    embedding = embed_windows(model, windows, sets, strand="concat", progress=False)
    path = write_embedding(embedding, out / "B1_embed" / "f5_enhancers.parquet")
    print("feature sets: " + ", ".join(f"{k} {v.shape}" for k, v in embedding.features.items()) + f" -> {path}")

    step("B2  enhancer classification: FANTOM5 enhancers vs random windows (real files; far too few to judge)")
    argv = ["evaluate", str(out / "B2_enhancers"), "-m", str(model_path), "--parts", "enhancers,diagnostics",
            "--fasta", str(fasta), "--enhancers", f"FANTOM5={enhancers},random", "--diagnostic-bins",
            "200" if args.quick else "500", "--adversary-steps", "100", "--no-progress"]
    if args.baseline_model:
        argv += ["--baseline-model", str(args.baseline_model)]
    run(argv)

    step("B3  attributions around CTCF ChIP-seq summits (ENCODE K562), minus random windows")
    units = pick_units(model, ["CTCF", "Accessible DNA", "DNase-seq", "ChIP-seq"])
    run(["attribute", str(ctcf), str(fasta), str(out / "B3_ctcf_attribution"), "-m", str(model_path),
         "--random-background", "30", "--steps", "8" if args.quick else "32", "--no-progress"] + units)

    step("B4  global importance of the CTCF core motif in dinucleotide-shuffled real windows")
    background = random_windows(genome, 64 if args.quick else 200, model.config.seq_len, seed=1, max_n_fraction=0.01)
    shuffled = dinucleotide_shuffle(background.one_hot(), seed=2)
    table = global_importance(model, shuffled, motif_one_hot(CTCF_CORE), default_unit_targets(model))
    (out / "B4_gia").mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "B4_gia" / "ctcf_gia.tsv", sep="\t", index=False, float_format="%.4g")
    print(table[["target", "effect", "fraction_up", "p_value"]].to_string(index=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-m", "--model", help="model file (.pt / Kipoi folder / .ckpt); default: the packaged model")
    parser.add_argument("--baseline-model", type=Path, help="a baseline model to compare with")
    parser.add_argument("--simulated", type=Path, help="output folder of 'mfd simulate'")
    parser.add_argument("--store", type=Path, help="label store of the simulated data ('mfd prepare')")
    parser.add_argument("--variant-scores", type=Path, help="'mfd score-variants' table of the simulated variants")
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "tutorial")
    parser.add_argument("--untrained", action="store_true", help="use a random-weight model (pipeline check)")
    parser.add_argument("--quick", action="store_true", help="fewer sequences everywhere")
    args = parser.parse_args()

    from mfd_model.model_io import load_model

    args.out.mkdir(parents=True, exist_ok=True)
    if args.untrained:
        model_path = untrained_model(args.out, args.simulated)
        print(f"using an UNTRAINED model ({model_path}): the numbers below only show that the pipeline runs")
    else:
        model_path = args.model
    model = load_model(model_path)
    if args.simulated:
        part_a(args, Path(model_path), model, args.out)
    if (args.shared_data / "hg38_chr1_1mb").exists():
        part_b(args, Path(model_path), model, args.out)
    else:
        print(f"\n(part B skipped: {args.shared_data}/hg38_chr1_1mb not found)")
    print(f"\nall tables and figures are under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
