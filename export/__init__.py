"""Kipoi packaging and PyTorch / TensorFlow export (installed as ``mfd_model.export``).

Not yet implemented: ``mfd export`` arrives with issue 4. Importing this package must
stay free of TensorFlow until a function that needs it is called.
"""
