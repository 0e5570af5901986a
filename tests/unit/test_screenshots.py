"""Every screenshot in ``docs/screenshots`` is shot by a browser test, in English and in Dutch
(issue 16): none can go stale unnoticed, and none is left that nothing makes.

The names are read from the tests' ``shot(page, …)`` calls: a literal, or an f-string whose
fields are loop variables over literal tuples or over the keys of a literal dict
(``for lang in ("en", "nl")``, ``for name, path in pages.items()``).
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
TESTS = ROOT / "tests" / "acceptance"


def _literal_keys(node: ast.AST, dicts: dict[str, list[str]]) -> list[str] | None:
    """The literal values a loop over ``node`` yields (tuple/list of strings, a dict's keys)."""
    if isinstance(node, (ast.Tuple, ast.List)):
        # ("en", "nl"), or (("en", "Sent"), ("nl", None)) unpacked: the first of each
        firsts = [e.elts[0] if isinstance(e, ast.Tuple) and e.elts else e for e in node.elts]
        values = [e.value for e in firsts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        return values if len(values) == len(node.elts) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("items", "keys"):
        node = node.func.value
    if isinstance(node, ast.Name):
        return dicts.get(node.id)
    return None


def _names_in(function: ast.FunctionDef) -> set[str]:
    dicts: dict[str, list[str]] = {}
    loops: dict[str, list[str]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    dicts[target.id] = [k.value for k in node.value.keys
                                        if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript)
                and isinstance(node.targets[0].value, ast.Name) and isinstance(node.targets[0].slice, ast.Constant)):
            dicts.setdefault(node.targets[0].value.id, []).append(str(node.targets[0].slice.value))
    for node in ast.walk(function):
        if isinstance(node, ast.For):
            values = _literal_keys(node.iter, dicts)
            target = node.target.elts[0] if isinstance(node.target, ast.Tuple) else node.target
            if values is not None and isinstance(target, ast.Name):
                loops[target.id] = values
    names: set[str] = set()
    for node in ast.walk(function):
        if not (isinstance(node, ast.Call) and len(node.args) == 2
                and (getattr(node.func, "id", None) == "shot" or getattr(node.func, "attr", None) == "shot")):
            continue
        arg = node.args[1]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names.add(arg.value)
        else:
            assert isinstance(arg, ast.JoinedStr), f"{function.name}: cannot tell the name of {ast.unparse(arg)}"
            parts: list[list[str]] = []
            for value in arg.values:
                if isinstance(value, ast.Constant):
                    parts.append([str(value.value)])
                elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name) \
                        and value.value.id in loops:
                    parts.append(loops[value.value.id])
                else:
                    raise AssertionError(f"{function.name}: cannot tell the names of {ast.unparse(arg)}")
            names.update("".join(p) for p in itertools.product(*parts))
    return names


def shots_by_test() -> dict[str, set[str]]:
    """``test file::function`` → the screenshot names it shoots."""
    found: dict[str, set[str]] = {}
    for path in sorted(TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and (names := _names_in(node)):
                found[f"{path.name}::{node.name}"] = names
    return found


def shot_names() -> set[str]:
    return set().union(*shots_by_test().values())


def test_each_screenshot_is_shot_by_one_test_only() -> None:
    """Two tests shooting one name: the one that ran last decides what the docs show."""
    owners: dict[str, list[str]] = {}
    for test, names in shots_by_test().items():
        for name in names:
            owners.setdefault(name, []).append(test)
    shared = {name: tests for name, tests in owners.items() if len(tests) > 1}
    assert not shared, shared


def test_the_names_are_found() -> None:
    names = shot_names()
    assert len(names) > 40, names
    assert {"outlook-en", "outlook-nl", "settings-email-default-domain-en"} <= names


def test_every_screenshot_is_shot_by_a_test() -> None:
    on_disk = {p.stem for p in SCREENSHOTS.glob("*.png")}
    stale = sorted(on_disk - shot_names())
    assert not stale, f"no test shoots these (delete them, or shoot them): {stale}"


def test_every_shot_is_committed() -> None:
    on_disk = {p.stem for p in SCREENSHOTS.glob("*.png")}
    missing = sorted(shot_names() - on_disk)
    assert not missing, ("shot but not in docs/screenshots (run the browser tests with MAILPORT_SCREENSHOTS=1): "
                         f"{missing}")


def test_each_screenshot_in_english_and_dutch() -> None:
    names = shot_names()
    alone = sorted(name for name in names
                   if (m := re.fullmatch(r"(.+)-(en|nl)", name)) is None
                   or f"{m.group(1)}-{'nl' if m.group(2) == 'en' else 'en'}" not in names)
    assert not alone, f"only in one language (or no -en/-nl suffix): {alone}"


def test_the_docs_show_only_screenshots_that_exist() -> None:
    on_disk = {p.name for p in SCREENSHOTS.glob("*.png")}
    referenced = {m for path in [*ROOT.glob("*.md"), *(ROOT / "docs").rglob("*.md")]
                  for m in re.findall(r"screenshots/([\w.-]+\.png)", path.read_text(encoding="utf-8"))}
    assert referenced <= on_disk, sorted(referenced - on_disk)
