"""YAML loading that remembers where every key stood, for one-line error messages; the one check of
a parameter mapping's keys (:func:`check_keys`), with or without the YAML it came from."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Collection

import yaml

from .errors import ConfigError

KeyPath = tuple[Any, ...]


class LocatedYaml:
    """Parsed YAML plus the line number of each mapping key / sequence item.

    Attributes:
        data: the plain Python object (dicts, lists, scalars).
        path: the file it came from.
    """

    def __init__(self, data: Any, lines: dict[KeyPath, int], path: str | Path) -> None:
        self.data = data
        self._lines = lines
        self.path = str(path)

    def line(self, key_path: KeyPath) -> int | None:
        """1-based line of ``key_path`` (e.g. ``("model", "channels")``), or of its closest parent."""
        key_path = tuple(key_path)
        while key_path:
            if key_path in self._lines:
                return self._lines[key_path]
            key_path = key_path[:-1]
        return self._lines.get((), None)

    def error(self, key_path: KeyPath, message: str, fix: str | None = None,
              cls: type[ConfigError] = ConfigError) -> ConfigError:
        """An error pointing at ``key_path`` in this file."""
        return cls(message, path=self.path, line=self.line(key_path), fix=fix)



def check_keys(mapping: Any, known: Collection[str], *, unknown: str, fix: str | None,
               not_a_mapping: str = "expected a mapping", not_a_mapping_fix: str | None = None,
               doc: LocatedYaml | None = None, key_path: KeyPath = (),
               cls: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """``mapping`` itself when it is a mapping whose keys are all in ``known``; else one-line error.

    Every parameter mapping (a YAML section, a ``--set`` dict, a saved ``params.json``) is checked
    here, each caller with its own words.

    Args:
        mapping: the value to check.
        known: the keys allowed.
        unknown: the message for unknown keys, a :meth:`str.format` template: ``{key}`` the first
            unknown key (in the mapping's order), ``{keys}`` every unknown key (sorted, comma
            separated), ``{dotted}`` ``key_path`` and the first unknown key joined by dots.
        fix: the fix for unknown keys (usually the known ones).
        not_a_mapping / not_a_mapping_fix: message and fix when ``mapping`` is not a ``dict``.
        doc / key_path: the YAML the mapping came from and where it sits in it: errors then name
            the file and the line of the first unknown key (of the mapping when not a mapping).
        cls: the error class (:class:`ConfigError` or a subclass).

    Raises:
        ConfigError: (``cls``) ``mapping`` is not a mapping or holds a key not in ``known``.
    """
    def error(where: KeyPath, message: str, error_fix: str | None) -> ConfigError:
        if doc is not None:
            return doc.error(where, message, error_fix, cls=cls)
        return cls(message, fix=error_fix)

    key_path = tuple(key_path)
    if not isinstance(mapping, dict):
        raise error(key_path, not_a_mapping, not_a_mapping_fix)
    strangers = [key for key in mapping if key not in known]
    if strangers:
        first = strangers[0]
        message = unknown.format(key=first, keys=", ".join(sorted(map(str, strangers))),
                                 dotted=".".join(map(str, key_path + (first,))))
        raise error(key_path + (first,), message, fix)
    return mapping

def _collect_lines(node: yaml.Node, prefix: KeyPath, lines: dict[KeyPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[prefix + (key,)] = key_node.start_mark.line + 1
            _collect_lines(value_node, prefix + (key,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[prefix + (i,)] = item.start_mark.line + 1
            _collect_lines(item, prefix + (i,), lines)


def load_yaml(path: str | Path, cls: type[ConfigError] = ConfigError) -> LocatedYaml:
    """Read a YAML file; syntax errors and missing files become one-line :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise cls("file not found", path=path, fix="check the path") from None
    except (OSError, UnicodeDecodeError) as err:
        raise cls(f"cannot read file: {err}", path=path) from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(err, "problem", None) or str(err)
        raise cls(f"invalid YAML: {problem}", path=path, line=line,
                  fix="correct the YAML syntax") from None
    lines: dict[KeyPath, int] = {(): 1}
    if node is not None:
        _collect_lines(node, (), lines)
    return LocatedYaml(data, lines, path)


def parse_overrides(items: list[str], what: str = "SECTION.KEY=VALUE") -> dict[str, Any]:
    """``["training.max_epochs=2", ...]`` -> ``{"training.max_epochs": 2}`` (values parsed as YAML)."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set expects {what}, got {item!r}", fix="write e.g. --set training.max_epochs=2")
        key, value = item.split("=", 1)
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(f"--set {key.strip()}: cannot read the value {value!r}",
                              fix="write a number, true/false, a string or a list like [2012,2016]") from None
    return out
