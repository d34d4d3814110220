"""One module per ``mfd`` sub-command: ``add_arguments(parser)`` and ``run(args) -> int``.

Command modules import only the standard library at module level, so ``mfd --help`` is fast;
heavy imports (torch, lightning, tensorflow) happen inside ``run``.
"""
