"""Kipoi dataloader of the MFD model folder: variant-centred reference / alternative windows.

``dataloader.yaml`` declares :class:`VariantWindowDl` (a Kipoi ``SampleIterator``). All of
its logic lives in :mod:`mfd_model.variants.dataloader`, which ``mfd score-variants`` uses
directly; this file only adds Kipoi's base class, so the windows a Kipoi user gets are the
windows the scorer scores. Load it with::

    import kipoi
    Dl = kipoi.get_dataloader_factory("path/to/this/folder", source="dir")
    dl = Dl(vcf_file="variants.vcf.gz", fasta_file="hg38.fa")
    batch = next(dl.batch_iter(batch_size=32))   # batch["inputs"]["ref"]: (32, 4, L)

``L`` (``seq_len``) defaults to the input length of this folder's model, the packaged default
model (``mfd_model/default_model/spec.json``); pass it for another model.
"""
from __future__ import annotations

import kipoi.data

from mfd_model.kipoi_folder import default_model_files, read_spec
from mfd_model.variants.dataloader import VariantWindowDl as _VariantWindows


def default_seq_len() -> int:
    """Input length of the packaged default model (the model of this folder's ``model.yaml``)."""
    spec_path, _ = default_model_files()
    return int(read_spec(spec_path)["config"]["seq_len"])


class VariantWindowDl(_VariantWindows, kipoi.data.SampleIterator):
    """Variant-centred windows from a VCF and a FASTA (see ``dataloader.yaml``)."""

    def __init__(self, vcf_file, fasta_file, seq_len=None, shifts=0, max_allele_length=50,
                 chunk_size=512, keep_text=False):
        super().__init__(vcf_file, fasta_file, seq_len=default_seq_len() if seq_len is None else seq_len,
                         shifts=shifts,
                         max_allele_length=max_allele_length, chunk_size=chunk_size, keep_text=keep_text)
