"""Every ``docs/method.md section N`` that the code cites is a numbered section of docs/method.md.

The code cites the method by section number (``docs/method.md section 4``, ``sections 2, 4, 5``,
``sections 5 and 8``); renumbering the page, or citing a section that does not exist, fails here.
The scan reads every ``.py`` file of the package (``mfd_model/``, ``train/``, ``export/``), the
tests, the benchmarks and the repository root. Citations of the old shared page (its name in
capitals) are refused: docs/method.md replaced it in the repository.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHOD = ROOT / "docs" / "method.md"
CITATION = re.compile(r"docs/method\.md,?\s+sections?\s+(\d+(?:\.\d+)?(?:\s*(?:,|and|,\s*and)\s*\d+(?:\.\d+)?)*)")
HEADING = re.compile(r"^#{2,3} (\d+(?:\.\d+)?)\. \S", re.MULTILINE)


def python_files() -> list[Path]:
    files = sorted(ROOT.glob("*.py"))
    for folder in ("mfd_model", "train", "export", "tests", "benchmarks"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def cited_sections() -> dict[str, list[str]]:
    """``section number -> ["path:line", ...]`` for every citation in the code."""
    cited: dict[str, list[str]] = {}
    for path in python_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in CITATION.finditer(line):
                for section in re.findall(r"\d+(?:\.\d+)?", match.group(1)):
                    cited.setdefault(section, []).append(f"{path.relative_to(ROOT)}:{number}")
    return cited


def test_sections_are_numbered_in_order():
    numbers = [int(n) for n in HEADING.findall(METHOD.read_text()) if "." not in n]
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_cited_section_exists():
    cited = cited_sections()
    assert len(cited) >= 5, "the scan found almost no citations: has the citation form changed?"
    headings = set(HEADING.findall(METHOD.read_text()))
    missing = {section: where for section, where in cited.items() if section not in headings}
    assert not missing, f"cited sections missing from docs/method.md: {missing}"


def test_no_citation_of_the_shared_page():
    old = "METHOD" + ".md"
    found = [f"{path.relative_to(ROOT)}:{number}" for path in python_files()
             for number, line in enumerate(path.read_text().splitlines(), 1) if old in line]
    assert not found, f"cite docs/method.md instead: {found}"
