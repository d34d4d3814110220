"""Shared helpers of the variant-scoring tests: synthetic genomes and VCFs, tiny models."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

VCF_HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=3000>
##contig=<ID=chr2,length=2000>
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
"""


def random_genome(seed: int = 7) -> dict[str, str]:
    """Two contigs of random DNA with a soft-masked (lower-case) stretch and a run of N."""
    rng = random.Random(seed)
    chr1 = "".join(rng.choice("ACGT") for _ in range(3000))
    chr1 = chr1[:900] + chr1[900:1000].lower() + chr1[1000:1400] + "N" * 30 + chr1[1430:]
    chr2 = "".join(rng.choice("ACGT") for _ in range(2000))
    return {"chr1": chr1, "chr2": chr2}


def write_fasta(path: Path, contigs: dict[str, str], width: int = 60) -> Path:
    with open(path, "w") as handle:
        for name, seq in contigs.items():
            handle.write(f">{name}\n")
            for i in range(0, len(seq), width):
                handle.write(seq[i:i + width] + "\n")
    return path


def write_vcf(path: Path, lines: Iterable[str], header: str = VCF_HEADER) -> Path:
    with open(path, "w") as handle:
        handle.write(header)
        for line in lines:
            handle.write(line + "\n")
    return path


def variant_lines(genome: dict[str, str]) -> list[str]:
    """SNVs, an MNV, insertions, deletions, a multi-allelic site, neighbours: all scorable, sorted."""
    chr1, chr2 = genome["chr1"], genome["chr2"]

    def snv(chrom: str, pos: int, alt_choice: int = 1) -> str:
        ref = genome[chrom][pos - 1].upper()
        alt = "ACGT"[("ACGT".index(ref) + alt_choice) % 4]
        return f"{chrom}\t{pos}\tsnv{chrom}_{pos}\t{ref}\t{alt}\t50\tPASS\tDP=10"

    out = [snv("chr1", 300), snv("chr1", 302, 2), snv("chr1", 305, 3)]
    out.append(f"chr1\t500\tmnv\t{chr1[499:502]}\tTTA\t.\t.\t.")
    out.append(f"chr1\t700\tins\t{chr1[699]}\t{chr1[699]}GATTACA\t.\t.\t.")
    out.append(f"chr1\t800\tdel\t{chr1[799:806]}\t{chr1[799]}\t.\t.\t.")
    out.append(snv("chr1", 950))                    # inside the soft-masked stretch, REF lower-case in FASTA
    multi_ref = chr1[1099]
    alts = [b for b in "ACGT" if b != multi_ref][:2]
    out.append(f"chr1\t1100\tmulti\t{multi_ref}\t{alts[0]},{alts[1]},{multi_ref}CC\t.\t.\t.")
    out.append(snv("chr1", 1380))                   # window reaches into the N run
    out.append(f"chr2\t1000\t.\t{chr2[999:1001].lower()}\t{chr2[999]}\t.\t.\t.")  # lower-case REF
    out.append(snv("chr2", 1500))
    return out


def read_tsv(path: Path):
    import pandas as pd
    return pd.read_csv(path, sep="\t", dtype={"ID": str, "#CHROM": str, "REF": str, "ALT": str},
                       keep_default_na=False)


def one_thread():
    """Context manager: one intra-op thread (2 shared cores: several threads spin against each other)."""
    class _OneThread:
        def __enter__(self):
            self.before = torch.get_num_threads()
            torch.set_num_threads(1)

        def __exit__(self, *exc):
            torch.set_num_threads(self.before)
    return _OneThread()


def scores_array(frame, score_names: list[str], n_experiments: int) -> np.ndarray:
    """TSV values -> (rows, scores, experiments)."""
    values = frame.iloc[:, 5:].to_numpy(dtype=float)
    return values.reshape(len(frame), len(score_names), n_experiments)
