"""The ``mfd`` commands stay thin, and ``mfd --help`` stays light.

A module under ``mfd_model/commands/`` parses its arguments and calls one library function whose
result writes itself (``commands/score_variants.py`` calling ``score_variants()``); logic that grows
there belongs in the library. The visible symptom is length: no module under ``mfd_model/commands/``
(packages included) is over ``MAX_LINES`` lines.

``LONG_COMMANDS`` is the explicit allow-list of the modules that still hold their logic, each with
the reason. It may only shrink: an entry must name a module that exists and is still too long (a
module that became thin must leave the list), and no module may join it. Since issue 12 it is
empty: ``mfd evaluate`` calls ``mfd_model.evaluate.evaluation.evaluate()`` and ``mfd attribute``
calls ``mfd_model.interpret.around_sites.attribute_around_sites()``.

Building the parser (what ``mfd --help`` and every command do first) imports every command
module, so their module level must stay light: no heavy library is imported then.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

COMMANDS = Path(__file__).resolve().parents[1] / "mfd_model" / "commands"
MAX_LINES = 150

# module (relative to mfd_model/commands/) -> why it may still be longer; to shrink to nothing
LONG_COMMANDS: dict[str, str] = {}
# the allow-list as first written: entries may leave, none may join
ALLOWED_EVER = frozenset({"evaluate.py", "attribute.py"})

HEAVY = ("numpy", "torch", "pandas", "scipy", "sklearn", "lightning", "pytorch_lightning", "tensorflow", "keras",
         "matplotlib", "yaml", "pyfaidx", "captum", "h5py", "pyarrow", "kipoi")


def line_counts() -> dict[str, int]:
    """Lines of every module under mfd_model/commands/ (as ``wc -l`` counts them), by relative path."""
    return {path.relative_to(COMMANDS).as_posix(): len(path.read_text().splitlines())
            for path in sorted(COMMANDS.rglob("*.py")) if "__pycache__" not in path.parts}


def test_line_counts_see_every_command_module():
    counts = line_counts()
    assert {"score_variants.py", "demo.py", "motifs/__init__.py", "motifs/discover.py"} <= set(counts)
    assert all(n > 0 for n in counts.values())


def test_no_command_module_is_over_150_lines():
    too_long = {name: n for name, n in line_counts().items() if n > MAX_LINES and name not in LONG_COMMANDS}
    assert not too_long, (f"command modules over {MAX_LINES} lines: {too_long}; move the logic into a library "
                          "function that returns a result object which writes itself (docs/ARCHITECTURE.md, Commands)")


def test_the_allow_list_only_shrinks():
    counts = line_counts()
    assert set(LONG_COMMANDS) <= ALLOWED_EVER, "no command may join LONG_COMMANDS: make it thin instead"
    missing = sorted(set(LONG_COMMANDS) - set(counts))
    assert not missing, f"LONG_COMMANDS names modules that do not exist: {missing}"
    thin = sorted(name for name in LONG_COMMANDS if counts[name] <= MAX_LINES)
    assert not thin, f"{thin} are thin now ({MAX_LINES} lines or fewer): remove them from LONG_COMMANDS"


def test_building_the_parser_imports_no_heavy_library():
    """``mfd --help`` imports every command module; none may import a heavy library at module level."""
    code = ("import sys, mfd_model.cli; mfd_model.cli.build_parser(); "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
