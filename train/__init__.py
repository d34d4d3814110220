"""Data preparation and training (installed as ``mfd_model.train``).

Not yet implemented: ``mfd prepare``, ``mfd train`` and ``mfd simulate`` arrive with
issue 3 (data preparation and training). Nothing here pretends to work before then.
"""
