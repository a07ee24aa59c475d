"""docs/tutorial.md stays true: its code runs, its links and pictures exist.

- Every ```python block runs, in order, in one shared namespace, in a
  temporary working directory, under the pytest config (warnings are
  errors). Tracebacks point at the tutorial's own line numbers.
- Every link to code lines, ``[text](../nnfunc/file.py#L10-L12 "a … b")``,
  must name lines that exist and hold the tokens of its title (split at
  `` … ``): the first token on the first line, the last on the last line,
  every one in the range. So a link goes stale loudly when the code moves.
- Every other relative link and every image must exist; every heading
  anchor must match a heading; every ``nnfunc.x.y`` in backticks must import.
- The tutorial checks its outputs with ``assert`` lines, not ``>>>`` blocks
  (``--doctest-glob=*.md`` would otherwise run them a second time).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial.md"

#: The pictures the examples render into docs/images; the tutorial shows all.
IMAGES = (
    "images/activations.png",
    "images/initialization.png",
    "images/backprop.png",
    "images/optimizers.png",
    "images/spirals_boundary.png",
    "images/spirals_training.gif",
    "images/digits_curves.png",
    "images/digits_mistakes.png",
)

#: ``](../nnfunc/file.py#L10)`` or ``#L10-L12``, then an optional ``"title"``.
CODE_LINK = re.compile(
    r"\]\((?P<path>\.\./nnfunc/[\w/]+\.py)#L(?P<start>\d+)(?:-L(?P<end>\d+))?"
    r"(?:\s+\"(?P<title>(?:[^\"\\]|\\.)*)\")?\)"
)
#: Any inline link or image: ``](target)`` or ``](target "title")``.
ANY_LINK = re.compile(r"\]\((?P<target>[^\s)]+)(?:\s+\"(?:[^\"\\]|\\.)*\")?\)")
IMAGE = re.compile(r"!\[[^\]]*\]\((?P<target>[^\s)]+)")
DOTTED = re.compile(r"`(nnfunc(?:\.\w+)+)`")
FENCE = re.compile(r"^```(?P<lang>\w*)\s*$")


def text() -> str:
    return TUTORIAL.read_text(encoding="utf-8")


def python_blocks() -> list[tuple[int, str]]:
    """``(line of the first code line, code)`` of each ```python block."""
    blocks: list[tuple[int, str]] = []
    lang: str | None = None
    start = 0
    lines: list[str] = []
    for number, line in enumerate(text().splitlines(), 1):
        fence = FENCE.match(line)
        if lang is None and fence:
            lang, start, lines = fence["lang"], number + 1, []
        elif lang is not None and line.strip() == "```":
            if lang == "python":
                blocks.append((start, "\n".join(lines) + "\n"))
            lang = None
        elif lang is not None:
            lines.append(line)
    assert lang is None, "the tutorial ends inside a code block"
    return blocks


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: rendered text, lowercased, punctuation gone."""
    rendered = heading.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", rendered).replace(" ", "-")


def test_python_blocks_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks()
    assert len(blocks) >= 10
    namespace: dict[str, object] = {"__name__": "tutorial"}
    for start, code in blocks:
        # Padding with newlines makes tracebacks give the tutorial's line numbers.
        compiled = compile("\n" * (start - 1) + code, str(TUTORIAL), "exec")
        exec(compiled, namespace)


def test_code_links_point_at_their_tokens() -> None:
    doc = text()
    links = list(CODE_LINK.finditer(doc))
    assert len(links) >= 30
    assert len(links) == doc.count("](../nnfunc/"), "a code link without #L lines"
    stale = []
    for m in links:
        where = m.group(0)
        title = m["title"]
        if title is None:
            stale.append(f"{where}: no title token to check")
            continue
        tokens = title.replace('\\"', '"').split(" … ")
        file = (DOCS / m["path"]).resolve()
        if not file.is_file():
            stale.append(f"{where}: no such file")
            continue
        lines = file.read_text(encoding="utf-8").splitlines()
        first = int(m["start"])
        last = int(m["end"] or first)
        if not 1 <= first <= last <= len(lines):
            stale.append(f"{where}: {file.name} has {len(lines)} lines")
        elif tokens[0] not in lines[first - 1]:
            hint = where_now(lines, tokens[0])
            stale.append(f"{where}: line {first} lacks {tokens[0]!r}{hint}")
        elif tokens[-1] not in lines[last - 1]:
            hint = where_now(lines, tokens[-1])
            stale.append(f"{where}: line {last} lacks {tokens[-1]!r}{hint}")
        else:
            span = "\n".join(lines[first - 1 : last])
            stale += [f"{where}: lacks {t!r}" for t in tokens if t not in span]
    assert not stale, "stale code links in docs/tutorial.md:\n" + "\n".join(stale)


def where_now(lines: list[str], token: str) -> str:
    """Where ``token`` sits in the file now, to help re-anchor a stale link."""
    found = [str(n) for n, line in enumerate(lines, 1) if token in line]
    return f" (now on line {', '.join(found)})" if found else " (gone)"


def test_relative_links_and_images_exist() -> None:
    doc = text()
    missing = []
    for m in ANY_LINK.finditer(doc):
        target = m["target"].split("#", 1)[0]
        if not target or "://" in target:
            continue
        if not (DOCS / target).exists():
            missing.append(target)
    assert not missing, f"missing files linked from docs/tutorial.md: {missing}"


def test_every_documented_image_is_shown() -> None:
    shown = {m["target"] for m in IMAGE.finditer(text())}
    assert shown == set(IMAGES)


def test_heading_anchors_exist() -> None:
    doc = text()
    headings = {slug(h) for h in re.findall(r"^#+ (.+)$", doc, flags=re.MULTILINE)}
    anchors = re.findall(r"\]\(#([^)]+)\)", doc)
    assert anchors
    assert [a for a in anchors if a not in headings] == []


def test_dotted_names_resolve() -> None:
    names = set(DOTTED.findall(text()))
    assert len(names) >= 20
    unresolved = []
    for name in sorted(names):
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj: object = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                unresolved.append(name)
            break
    assert unresolved == []


def test_outputs_are_asserts_not_doctests() -> None:
    assert ">>>" not in text()
