"""De novo motif discovery: attributions -> TF-MoDISco patterns -> TomTom matches (``mfd motifs discover``).

The pipeline of the field (BPNet, ChromBPNet, tangermeme):

1. **Hypothetical contributions** of one target (a latent unit or an output) over a set of
   windows: DeepSHAP (:func:`.deeplift.deep_lift_shap` with ``hypothetical=True``), what each of
   the four bases would contribute at each position; times the one-hot sequence they are the
   contributions of the present bases.
2. **TF-MoDISco** (``modisco-lite``, :func:`find_patterns`): seqlets (windows of high total
   contribution, against a null of shuffled contributions) are cut out, clustered by the
   similarity of their hypothetical contributions, and aggregated into *patterns*: a PPM
   (base frequencies of the aligned seqlets), a CWM (their mean contributions) per pattern,
   positive and negative metaclusters separately.
3. **TomTom** (``memelite``, :func:`tomtom_matches`): each pattern, trimmed to the positions
   whose summed ``|CWM|`` reaches ``trim`` x its maximum (modisco-lite's report), is compared as
   a PPM with every motif of a database (JASPAR from ``pyjaspar``, which ships the database
   file; a user MEME file; exact k-mers); p-values of the best alignment over offsets and both
   strands, **q-values** by Benjamini-Hochberg over all database motifs of that pattern (as
   MEME's tomtom), E-values = p x the number of database motifs.

:class:`Discovery` holds the result and writes itself (``report.md``, ``patterns.tsv``,
``matches.tsv``, ``patterns.meme``, ``logos/*.png``, ``summary.json``), atomically;
:func:`motif_database` assembles the database of ``mfd motifs discover`` (MEME files, k-mers, JASPAR).

The three packages are the ``interpret`` extra; a missing one is a one-line :class:`MFDError`.
numba compiles their kernels on first use (about 1.5 minutes for TomTom, once per install:
the compiled code is cached next to the package).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..encoding import ALPHABET
from ..errors import MFDError
from .motifs import Motif

#: JASPAR releases that pyjaspar ships (database files inside the package)
JASPAR_RELEASES = ("JASPAR2026", "JASPAR2024", "JASPAR2022", "JASPAR2020", "JASPAR2018", "JASPAR2016", "JASPAR2014")


def _require(module: str, package: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MFDError(f"motif discovery needs the package {package!r}, which is not installed",
                       fix=f"pip install -c constraints.txt '.[interpret]' (or pip install {package})") from None


def require_packages(jaspar: bool = True) -> None:
    """A one-line :class:`MFDError` now, before any model call, if a package of the pipeline is missing."""
    _require("modiscolite", "modisco-lite")
    _require("memelite", "memelite")
    if jaspar:
        _require("pyjaspar", "pyjaspar")


# ============================================================================ patterns
@dataclass
class Pattern:
    """One TF-MoDISco pattern.

    Attributes:
        name: ``pos_pattern_0``, ``neg_pattern_1`` ... (metacluster and rank, most seqlets first).
        sign: +1 for the positive metacluster (raises the target), -1 for the negative one.
        ppm: base frequencies of the aligned seqlets, shape=(w, 4), ACGT columns.
        cwm: mean contribution of the present bases, shape=(w, 4).
        hypothetical: mean hypothetical contributions, shape=(w, 4).
        n_seqlets: seqlets in the pattern.
        trim: ``(start, end)`` of the trimmed core in ``ppm`` / ``cwm`` rows.
    """

    name: str
    sign: int
    ppm: np.ndarray
    cwm: np.ndarray
    hypothetical: np.ndarray
    n_seqlets: int
    trim: tuple[int, int]

    @property
    def core_ppm(self) -> np.ndarray:
        """The trimmed PPM, shape=(end - start, 4) (what is matched against databases)."""
        return self.ppm[self.trim[0]:self.trim[1]]

    @property
    def core_cwm(self) -> np.ndarray:
        """The trimmed CWM, shape=(end - start, 4)."""
        return self.cwm[self.trim[0]:self.trim[1]]

    @property
    def consensus(self) -> str:
        """Consensus of the trimmed core: the base of largest contribution (times the sign) per position."""
        return "".join(ALPHABET[i] for i in np.argmax(self.sign * self.core_cwm, axis=1))

    def motif(self) -> Motif:
        """The trimmed core as a :class:`Motif` (PPM rows renormalised)."""
        ppm = np.clip(self.core_ppm, 0, None)
        ppm = ppm / np.clip(ppm.sum(axis=1, keepdims=True), 1e-12, None)
        return Motif(self.name, ppm, self.n_seqlets, info={"sign": self.sign})


def trim_bounds(cwm: np.ndarray, threshold: float = 0.3) -> tuple[int, int]:
    """``(start, end)`` of the span of rows whose summed ``|cwm|`` is >= ``threshold`` x its maximum.

    Args:
        cwm: shape=(w, 4).
    """
    score = np.abs(cwm).sum(axis=1)
    if not score.size or score.max() <= 0:
        return 0, len(score)
    keep = np.flatnonzero(score >= threshold * score.max())
    return int(keep[0]), int(keep[-1]) + 1


@dataclass
class ModiscoParams:
    """The TF-MoDISco settings (modisco-lite names in brackets), sized for a few hundred windows.

    Attributes:
        max_seqlets: seqlets kept per metacluster (``max_seqlets_per_metacluster``).
        window: seqlet core width (``sliding_window_size``).
        flank: bases added on each side of a seqlet (``flank_size``).
        min_metacluster: fewest seqlets for a metacluster to be clustered (``min_metacluster_size``).
        min_pattern: fewest seqlets in a reported pattern (``final_min_cluster_size``).
        leiden_runs: Leiden clusterings with different (fixed) seeds (``n_leiden_runs``).
        seqlet_fdr: target FDR of the seqlet threshold (``target_seqlet_fdr``).
        trim: a pattern's core: rows with summed ``|CWM|`` >= ``trim`` x the maximum.
    """

    max_seqlets: int = 2000
    window: int = 15
    flank: int = 5
    min_metacluster: int = 50
    min_pattern: int = 20
    leiden_runs: int = 4
    seqlet_fdr: float = 0.2
    trim: float = 0.3


def find_patterns(one_hot: np.ndarray, hypothetical: np.ndarray, params: ModiscoParams | None = None,
                  *, seed: int = 0) -> list[Pattern]:
    """TF-MoDISco (modisco-lite) patterns of one target's hypothetical contributions.

    Args:
        one_hot: the sequences, shape=(N, L, 4) (modisco's layout), ``N`` positions all zeros.
        hypothetical: hypothetical contributions, shape=(N, L, 4).
        params: see :class:`ModiscoParams`.
        seed: seeds numpy's global generator before the run (modisco-lite's Leiden runs use
            fixed seeds of their own; the run is deterministic).
    Returns:
        the positive metacluster's patterns, then the negative one's, each most seqlets first.
    """
    tfmodisco = _require("modiscolite.tfmodisco", "modisco-lite")
    params = params or ModiscoParams()
    one_hot = np.ascontiguousarray(one_hot, dtype=np.float32)
    hypothetical = np.ascontiguousarray(hypothetical, dtype=np.float32)
    if one_hot.ndim != 3 or one_hot.shape[2] != 4 or one_hot.shape != hypothetical.shape:
        raise ValueError(f"one_hot and hypothetical must both have shape (N, L, 4), got "
                         f"{one_hot.shape} and {hypothetical.shape}")
    if one_hot.shape[1] < params.window + 2 * params.flank:
        raise MFDError(f"windows of {one_hot.shape[1]} bp are shorter than a seqlet "
                       f"({params.window} + 2 x {params.flank} bp)", fix="use longer windows or a smaller seqlet window")
    scores = (one_hot * hypothetical).sum(axis=2)                                   # (N, L)
    largest = float(np.abs(scores).max()) if scores.size else 0.0
    if not largest > 0:
        raise MFDError("the target's contributions are all zero over these windows: nothing to cluster",
                       fix="choose windows that the unit responds to, or another unit")
    if not ((scores < 0).any() and (scores > 0).any()):
        # modisco-lite estimates a null per sign and fails when one sign never occurs (e.g. a
        # detector that only ever raises its unit): give the absent sign negligible noise
        noise = np.random.default_rng(seed).normal(0, 1e-6 * largest, hypothetical.shape).astype(np.float32)
        hypothetical = hypothetical + noise
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        positive, negative = tfmodisco.TFMoDISco(
            one_hot, hypothetical, sliding_window_size=params.window, flank_size=params.flank,
            min_metacluster_size=params.min_metacluster, max_seqlets_per_metacluster=params.max_seqlets,
            target_seqlet_fdr=params.seqlet_fdr, n_leiden_runs=params.leiden_runs,
            final_min_cluster_size=params.min_pattern, verbose=False)
    except ValueError as err:
        raise MFDError(f"TF-MoDISco could not run on these contributions ({err})",
                       fix="use more windows (--max-regions) or windows the target responds to") from None
    finally:
        np.random.set_state(state)
    patterns: list[Pattern] = []
    for prefix, sign, found in (("pos", 1, positive), ("neg", -1, negative)):
        ordered = sorted(found or [], key=lambda p: -len(p.seqlets))
        for rank, pattern in enumerate(ordered):
            cwm = np.asarray(pattern.contrib_scores, dtype=np.float64)
            patterns.append(Pattern(f"{prefix}_pattern_{rank}", sign, np.asarray(pattern.sequence, dtype=np.float64),
                                    cwm, np.asarray(pattern.hypothetical_contribs, dtype=np.float64),
                                    len(pattern.seqlets), trim_bounds(cwm, params.trim)))
    return patterns


# ============================================================================ databases
def jaspar_motifs(release: str = "JASPAR2024", collection: str = "CORE",
                  taxa: Sequence[str] | None = ("vertebrates",)) -> list[Motif]:
    """The motifs of a JASPAR release shipped with ``pyjaspar`` (no download).

    Args:
        release: one of :data:`JASPAR_RELEASES`.
        collection: ``CORE``, ``UNVALIDATED``, ...
        taxa: taxonomic groups (``vertebrates``, ``plants``, ``insects``, ...); ``None``: all.
    Returns:
        one :class:`Motif` per matrix: ``name`` = the matrix ID (``MA0139.2``), PPM from the
        counts, ``info`` with ``tf`` (the factor's name) and ``source``.
    """
    pyjaspar = _require("pyjaspar", "pyjaspar")
    if release not in JASPAR_RELEASES:
        raise MFDError(f"unknown JASPAR release {release!r}", fix=f"use one of {', '.join(JASPAR_RELEASES)}")
    db = pyjaspar.jaspardb(release=release)
    found = db.fetch_motifs(collection=collection, tax_group=list(taxa) if taxa else None)
    source = f"{release} {collection}" + (f" {','.join(taxa)}" if taxa else "")
    motifs = []
    for m in found:
        counts = np.array([[float(v) for v in m.counts[b]] for b in ALPHABET]).T      # (w, 4)
        ppm = counts / np.clip(counts.sum(axis=1, keepdims=True), 1e-12, None)
        motifs.append(Motif(m.matrix_id, ppm, int(counts.sum(axis=1).max()), counts,
                            {"tf": m.name, "source": source}))
    if not motifs:
        raise MFDError(f"no JASPAR motif in {source}",
                       fix="check --jaspar-collection / --jaspar-taxon (e.g. CORE, vertebrates)")
    return motifs


def kmer_motif(kmer: str, pseudocount: float = 0.01) -> Motif:
    """An exact k-mer as a PPM (``1 - 3 p`` on its base, ``p`` elsewhere), named ``kmer:<SEQ>``."""
    kmer = kmer.upper()
    if not kmer or set(kmer) - set(ALPHABET):
        raise MFDError(f"k-mer {kmer!r} is not a DNA sequence", fix="use A, C, G and T only, e.g. --kmer CCTTG")
    ppm = np.full((len(kmer), 4), pseudocount)
    ppm[np.arange(len(kmer)), [ALPHABET.index(b) for b in kmer]] = 1 - 3 * pseudocount
    return Motif(f"kmer:{kmer}", ppm, info={"tf": kmer, "source": "k-mer"})


@dataclass
class MotifDatabase:
    """Known motifs to match patterns against (:func:`motif_database`).

    Attributes:
        motifs: every motif, ``info`` with ``tf`` (the factor's name) and ``source``.
        sources: one line per source, with its count (``motifs.meme (12 motifs)``), for the report.
    """

    motifs: list[Motif]
    sources: list[str]


def motif_database(meme: Sequence[tuple[str | Path, Sequence[Motif]]] = (), kmers: Sequence[str] = (), *,
                   jaspar_release: str | None = None, jaspar_collection: str = "CORE",
                   jaspar_taxa: Sequence[str] | None = ("vertebrates",)) -> MotifDatabase:
    """The database of ``mfd motifs discover``: MEME files' motifs, exact k-mers and a JASPAR release, in that order.

    Args:
        meme: ``(path, motifs)`` per MEME file (:func:`.motifs.read_meme`); each motif's ``info`` gets its
            name as ``tf`` and the path as ``source`` (set in place).
        kmers: exact k-mers (:func:`kmer_motif`).
        jaspar_release: a release shipped with pyjaspar (:func:`jaspar_motifs`); ``None``: no JASPAR.
        jaspar_collection, jaspar_taxa: its collection and taxonomic groups (``None``: all).
    Raises:
        MFDError: a k-mer is not DNA; the JASPAR release or selection is unknown or empty; the database is empty.
    """
    motifs: list[Motif] = []
    sources: list[str] = []
    for path, found in meme:
        for m in found:
            m.info = {**(m.info or {}), "tf": m.name, "source": str(path)}
        motifs += found
        sources.append(f"{path} ({len(found)} motifs)")
    if kmers:
        motifs += [kmer_motif(k) for k in kmers]
        sources.append(f"k-mers {', '.join(k.upper() for k in kmers)}")
    if jaspar_release is not None:
        found = jaspar_motifs(jaspar_release, jaspar_collection, jaspar_taxa)
        motifs += found
        sources.append(f"{found[0].info['source']} ({len(found)} motifs)")
    if not motifs:
        raise MFDError("no motif database to match against",
                       fix="drop --no-jaspar, or pass --meme FILE and / or --kmer SEQ")
    return MotifDatabase(motifs, sources)


# ============================================================================ TomTom
def tomtom_matches(queries: Sequence[Motif], database: Sequence[Motif], *, top: int = 5,
                   n_jobs: int = 1) -> pd.DataFrame:
    """TomTom (memelite) of each query PPM against every database motif.

    Args:
        queries: the motifs to annotate (PPMs, shape=(w, 4) each).
        database: the known motifs (PPMs); ``info["source"]`` / ``info["tf"]`` are reported.
            memelite builds the score background from the database's columns: use a database of
            at least 25 motifs (it warns below), e.g. JASPAR plus a user file.
        top: rows kept per query (best p-values).
        n_jobs: numba threads.
    Returns:
        DataFrame ``query rank match match_name source p_value q_value e_value offset overlap
        strand``; ``q_value`` is Benjamini-Hochberg over all database motifs of that query, ``e_value``
        is ``p_value`` x the number of database motifs; sorted by query then rank (1 = best).
    """
    from scipy.stats import false_discovery_control

    memelite = _require("memelite", "memelite")
    columns = ["query", "rank", "match", "match_name", "source", "p_value", "q_value", "e_value",
               "offset", "overlap", "strand"]
    if not queries or not database:
        return pd.DataFrame(columns=columns)
    Q = [np.ascontiguousarray(q.pwm.T, dtype=np.float64) for q in queries]          # (4, w)
    T = [np.ascontiguousarray(t.pwm.T, dtype=np.float64) for t in database]
    p, _, offsets, overlaps, strands = memelite.tomtom(Q, T, n_jobs=n_jobs)[:5]     # (nQ, nT) each
    p = np.clip(np.nan_to_num(np.asarray(p, dtype=np.float64), nan=1.0), 0.0, 1.0)
    rows = []
    for i, query in enumerate(queries):
        q = false_discovery_control(p[i], method="bh")
        order = np.argsort(p[i], kind="stable")[:top]
        for rank, j in enumerate(order, 1):
            info = database[j].info or {}
            rows.append({"query": query.name, "rank": rank, "match": database[j].name,
                         "match_name": info.get("tf", database[j].name), "source": info.get("source", ""),
                         "p_value": float(p[i, j]), "q_value": float(q[j]), "e_value": float(p[i, j] * len(T)),
                         "offset": int(offsets[i, j]), "overlap": int(overlaps[i, j]),
                         "strand": "-" if int(strands[i, j]) == 1 else "+"})
    return pd.DataFrame(rows, columns=columns)


# ============================================================================ the result
@dataclass
class Discovery:
    """The result of :func:`discover_motifs`; :meth:`write` writes it.

    Attributes:
        target: the explained unit / output label (``unit bio/target:CTCF``).
        patterns: the TF-MoDISco patterns.
        matches: :func:`tomtom_matches` of the patterns' cores (``top`` rows per pattern).
        database: what the patterns were matched against (one line per source, with counts).
        q_threshold: a match with ``q_value`` below it counts as significant in the report.
        n_windows: windows explained; max_delta: largest |DeepLIFT convergence delta|.
        info: provenance (inputs, parameters, the command line).
    """

    target: str
    patterns: list[Pattern]
    matches: pd.DataFrame
    database: list[str]
    q_threshold: float = 0.05
    n_windows: int = 0
    max_delta: float = 0.0
    info: dict = field(default_factory=dict)

    def best_matches(self) -> pd.DataFrame:
        """One row per pattern: ``pattern sign n_seqlets width consensus best_match best_match_name
        source p_value q_value significant``."""
        rows = []
        for p in self.patterns:
            hits = self.matches[self.matches["query"] == p.name] if len(self.matches) else self.matches
            best = hits.iloc[0] if len(hits) else None
            rows.append({"pattern": p.name, "sign": p.sign, "n_seqlets": p.n_seqlets, "width": p.trim[1] - p.trim[0],
                         "consensus": p.consensus,
                         "best_match": best["match"] if best is not None else "",
                         "best_match_name": best["match_name"] if best is not None else "",
                         "source": best["source"] if best is not None else "",
                         "p_value": float(best["p_value"]) if best is not None else np.nan,
                         "q_value": float(best["q_value"]) if best is not None else np.nan,
                         "significant": bool(best is not None and best["q_value"] < self.q_threshold)})
        return pd.DataFrame(rows, columns=["pattern", "sign", "n_seqlets", "width", "consensus", "best_match",
                                           "best_match_name", "source", "p_value", "q_value", "significant"])

    def markdown(self) -> str:
        """The report: what was run, one table row per pattern (logo, best match, q-value)."""
        table = self.best_matches()
        lines = [f"# Motifs of {self.target}", "",
                 f"TF-MoDISco patterns of the DeepSHAP hypothetical contributions of `{self.target}` over "
                 f"{self.n_windows} windows (largest |convergence delta| {self.max_delta:.2g}), matched by "
                 f"TomTom against: " + "; ".join(self.database) + ".", "",
                 f"q-values: Benjamini-Hochberg over all database motifs per pattern; significant: q < "
                 f"{self.q_threshold:g}. Consensus: the base of largest contribution per position of the "
                 f"trimmed core (lower contribution at the ends is cut at {self.info.get('trim', 0.3):g} x the "
                 f"maximum).", ""]
        if not len(table):
            lines += ["No pattern was found: too few seqlets passed the threshold (try more windows, "
                      "or a target that the windows activate).", ""]
        else:
            lines += ["| pattern | sign | seqlets | consensus | best match | q-value | logo |",
                      "|---|---|---|---|---|---|---|"]
            for _, r in table.iterrows():
                match = f"{r['best_match_name']} ({r['best_match']}, {r['source']})" if r["best_match"] else "-"
                if r["best_match"] and not r["significant"]:
                    match = f"none significant (closest: {match})"
                q = f"{r['q_value']:.3g}" if np.isfinite(r["q_value"]) else "-"
                lines.append(f"| {r['pattern']} | {'+' if r['sign'] > 0 else '-'} | {r['n_seqlets']} | "
                             f"`{r['consensus']}` | {match} | {q} | ![{r['pattern']}](logos/{r['pattern']}.png) |")
            lines.append("")
        lines += ["Files: `patterns.tsv` (one row per pattern, its best match), `matches.tsv` (the best "
                  f"{self.info.get('top', 5)} matches per pattern with p-, q- and E-values, offset, overlap, "
                  "strand), `patterns.meme` (the trimmed PPMs), `logos/` (CWM and information content per "
                  "pattern), `summary.json`.", ""]
        return "\n".join(lines)

    def summary(self) -> dict:
        table = self.best_matches()
        return {"target": self.target, "n_windows": self.n_windows, "max_abs_delta": self.max_delta,
                "database": self.database, "q_threshold": self.q_threshold,
                "patterns": json.loads(table.to_json(orient="records")), "info": self.info}

    def write(self, outdir: str | Path) -> list[Path]:
        """Write ``report.md``, ``patterns.tsv``, ``matches.tsv``, ``patterns.meme``,
        ``logos/<pattern>.png`` and ``summary.json`` into ``outdir`` (all or nothing)."""
        from ..outputs import StagedDir
        from .motifs import write_meme
        from .plots import plot_pattern_logos

        with StagedDir(outdir) as out:
            (out / "report.md").write_text(self.markdown())
            self.best_matches().to_csv(out / "patterns.tsv", sep="\t", index=False, float_format="%.4g")
            self.matches.to_csv(out / "matches.tsv", sep="\t", index=False, float_format="%.4g")
            if self.patterns:
                write_meme([p.motif() for p in self.patterns], out / "patterns.meme")
                (out / "logos").mkdir()
                for p in self.patterns:
                    plot_pattern_logos(p.cwm, p.ppm, out / "logos" / f"{p.name}.png", trim=p.trim,
                                       title=f"{p.name}: {p.n_seqlets} seqlets, {self.target}")
            (out / "summary.json").write_text(json.dumps(self.summary(), indent=2, default=str))
        return out.written


def discover_motifs(model, X: np.ndarray, target, database: Sequence[Motif], *, database_names: Sequence[str] = (),
                    n_references: int = 10, seed: int = 0, params: ModiscoParams | None = None, top: int = 5,
                    q_threshold: float = 0.05, batch_size: int = 16, device: str | None = None,
                    progress: bool = False, info: dict | None = None) -> Discovery:
    """Attributions of one target -> TF-MoDISco patterns -> TomTom matches.

    Args:
        model: an :class:`~mfd_model.model.MFDModel`.
        X: one-hot windows, shape=(N, 4, seq_len).
        target: one :class:`~.targets.Target` (a latent unit or an output).
        database: known motifs (see :func:`jaspar_motifs`, :func:`kmer_motif`, :func:`.motifs.read_meme`).
        database_names: one description per source, for the report.
        n_references: DeepSHAP references per window (dinucleotide shuffles, seeded by ``seed``).
        params: TF-MoDISco settings.
        top: matches kept per pattern.
    Returns:
        :class:`Discovery`.
    """
    from .deeplift import deep_lift_shap

    params = params or ModiscoParams()
    hyp, deltas = deep_lift_shap(model, X, [target], n_references=n_references, seed=seed, hypothetical=True,
                                 batch_size=batch_size, device=device, progress=progress)   # (N, 1, 4, L)
    one_hot = np.asarray(X, dtype=np.float32)
    one_hot = one_hot * (one_hot.sum(axis=1, keepdims=True) == 1)                   # N positions: zeros
    patterns = find_patterns(one_hot.transpose(0, 2, 1), hyp[:, 0].transpose(0, 2, 1), params, seed=seed)
    matches = tomtom_matches([p.motif() for p in patterns], database, top=top)
    return Discovery(target.label, patterns, matches, list(database_names), q_threshold, len(X),
                     float(np.abs(deltas).max()) if deltas.size else 0.0,
                     {"n_references": n_references, "seed": seed, "top": top, **vars(params), **(info or {})})
