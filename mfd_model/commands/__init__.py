"""One module per ``mfd`` sub-command: ``add_arguments(parser)`` and ``run(args) -> int``.

A command parses its arguments and calls one library function whose result writes itself
(``score_variants``, ``check_against_truth``, ``filter_motifs`` ...); none is over 150 lines
(``tests/test_commands.py``). A command with actions is a package, one module per action
(``mfd motifs``: ``motifs/filters.py``, ``gia.py``, ``discover.py``).

Command modules import only the standard library at module level, so ``mfd --help`` is fast;
heavy imports (torch, lightning, tensorflow) happen inside ``run``.
"""
