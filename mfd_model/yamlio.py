"""YAML loading that remembers where every key stood, for one-line error messages."""
from __future__ import annotations

from pathlib import Path
from typing import Any

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
