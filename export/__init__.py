"""Kipoi packaging and TensorFlow export, only (installed as ``mfd_model.export``).

    kipoi_source      export_source(): a Kipoi model source MFD/{pytorch,tensorflow,NAME/...};
                      write_root_model(): the repository's root default model
    kipoi_yaml        the model.yaml of a variant (dataloader form kipoi-veff2 needs, honest info)
    kipoi_model       the wrapper class Kipoi instantiates for the pytorch type (copied into folders)
    examples          example FASTA + BED + VCF generated from a seed
    tensorflow_graph  the network rebuilt in TensorFlow ops; SavedModel of a tf.Module (imports TF)
    equivalence       PyTorch vs SavedModel on random and real windows (mfd export --check)
    standin           an UNTRAINED stand-in model for developing the packaging (never for use)

Importing this package, or any module above except ``tensorflow_graph``, never imports
TensorFlow. ``mfd predict`` (BED + FASTA -> probabilities) is :mod:`mfd_model.inference`.
"""
