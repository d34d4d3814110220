"""Data preparation and training (installed as ``mfd_model.train``).

``simulate`` (``mfd simulate``) writes the synthetic data set with known structure. Not yet
implemented: ``mfd prepare`` and ``mfd train`` arrive with issue 3 (data preparation and
training). Nothing here pretends to work before then.
"""
