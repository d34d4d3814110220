"""Data preparation and training (installed as ``mfd_model.train``).

    simulate   ``mfd simulate``: an ENCODE-like synthetic data set with known biology and biases
               (a package, one module per generative step)
    tsvformat  fast, byte-reproducible TSV / BED / gzip writing for the simulator
    prepare    ``mfd prepare``: FASTA + metadata + peak files -> a sparse label store
    labels     LabelStore: the label store on disk (CSR labels, splits, provenance)
    dataset    windows gathered from the store's genome code cache + labels, augmentation
    module     the MFD training step (docs/method.md section 5) as a Lightning module
    config     the training config (YAML), validated with file:line errors
    run        ``mfd train``: the Lightning Trainer around all of the above
"""
