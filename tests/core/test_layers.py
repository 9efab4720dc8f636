"""The layers of docs/ARCHITECTURE.md, read from the code's own imports.

A module imports only from its own layer or the layers below it; nothing but
``cli`` imports the window, and nothing imports ``cli``.
"""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "helios_desktop"

LAYERS = {
    0: {"records", "paths", "logs", "resources", "folders"},
    1: {"scan", "store", "config"},   # config checks globs and format families with scan
    1.5: {"extract"},                 # reading a document (scan finds it, analysis reads it)
    1.7: {"analysis"},
    2: {"engines"},
    3: {"backend"},
    4: {"gui", "cli", "__main__"},
}
LEVEL = {name: level for level, names in LAYERS.items() for name in names}


def imports():
    """(importing part, imported part) for every package-internal import."""
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("").parts
        package = list(rel[:-1])
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
                names = [a.name for a in node.names] if not target else [target[0]]
                for name in names:
                    yield rel[0], name, str(path.relative_to(PACKAGE))


def test_every_part_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if p.name != "__init__.py" and not p.name.startswith((".", "_")) or p.name == "__main__.py"}
    parts = {p for p in parts if p not in ("__pycache__",)}
    assert parts <= set(LEVEL), parts - set(LEVEL)


def test_no_import_runs_up_a_layer():
    wrong = [f"{where}: {src} -> {dst}" for src, dst, where in imports()
             if src != dst and dst in LEVEL and LEVEL[dst] > LEVEL[src]]
    assert wrong == []


def test_only_the_command_line_opens_the_window():
    wrong = [f"{where}: imports {dst}" for src, dst, where in imports()
             if (dst == "gui" and src not in ("gui", "cli")) or (dst == "cli" and src not in ("__main__", "cli"))]
    assert wrong == []
