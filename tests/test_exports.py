"""Every name a package offers (``__all__`` and its lazy-export table ``_EXPORTS``) resolves.

A package's ``__getattr__`` (:mod:`mfd_model.lazy`) imports ``_EXPORTS[name]`` only on first use,
so a wrong submodule in the table shows up only when someone reaches for the name. The packages
are those the pyproject installs (``mfd_model.train`` and ``mfd_model.export`` included). A name
whose submodule needs an optional dependency that is not installed (an extra of the pyproject)
is skipped with that dependency's name; a missing ``mfd_model`` module is a failure.
"""
from __future__ import annotations

import importlib
import pkgutil
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def installed_packages() -> list[str]:
    """The packages the pyproject installs (``[tool.setuptools] packages``)."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return list(tomllib.load(handle)["tool"]["setuptools"]["packages"])


def offered_names() -> list[tuple[str, str]]:
    """``(package, name)`` for every name in a package's ``__all__`` or ``_EXPORTS``."""
    pairs = []
    for package in installed_packages():
        module = importlib.import_module(package)
        names = set(getattr(module, "__all__", ())) | set(getattr(module, "_EXPORTS", {}))
        pairs += [(package, name) for name in sorted(names)]
    return pairs


def test_every_subpackage_is_installed():
    """A subpackage missing from the pyproject's list would be neither installed nor checked here."""
    import mfd_model

    found = {"mfd_model"} | {info.name for info in pkgutil.walk_packages(mfd_model.__path__, "mfd_model.")
                             if info.ispkg}
    assert found <= set(installed_packages())


def test_all_matches_exports():
    """``__all__`` lists the lazy names (plus ``__version__`` at the top), so neither drifts alone."""
    for package in installed_packages():
        module = importlib.import_module(package)
        if hasattr(module, "_EXPORTS"):
            assert set(module.__all__) - {"__version__"} == set(module._EXPORTS), package


def test_no_name_is_a_submodule():
    """A lazy name equal to a submodule's name would be the submodule once anything imports it."""
    for package in installed_packages():
        module = importlib.import_module(package)
        submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
        assert not set(getattr(module, "_EXPORTS", {})) & submodules, package


@pytest.mark.parametrize("package, name", offered_names())
def test_name_resolves(package, name):
    module = importlib.import_module(package)
    try:
        value = getattr(module, name)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] != "mfd_model":
            pytest.skip(f"{package}.{name} needs the optional dependency {error.name!r}")
        raise
    assert value is not None
    if name in getattr(module, "_EXPORTS", {}):
        source = importlib.import_module(f"{package}.{module._EXPORTS[name]}")
        assert getattr(source, name) is value
