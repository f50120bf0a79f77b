"""The package's layout: imports run one way, from the CLI down to the store, with no cycles.

Imports are read with ast from the source, so a lazy import inside a function counts as much
as one at the top: a cycle broken only by import order is still a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "archiver"

# The stages' folders, in the order the data travels, and the modules beside them.
STAGES = ("discover", "fetch", "extract", "diff", "capture", "store", "site")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[str]:
    """Every module this file imports, absolute, archiver's own and third-party alike."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield module
            # `from archiver.site import html` imports a module, not only a name.
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                if _is_module(candidate):
                    yield candidate


def _is_module(name: str) -> bool:
    if not name.startswith("archiver"):
        return False
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        edges[name] = {m for m in imported(path) if m.startswith("archiver") and m != name}
    return edges


GRAPH = graph()


def stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_the_listing_shows_the_pipeline() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert set(STAGES) <= folders, f"missing stage folders: {set(STAGES) - folders}"


def test_no_import_cycles() -> None:
    """Between archiver's modules, counting a package as its __init__ module."""
    seen: dict[str, int] = {}  # 1 while on the path, 2 when done
    path: list[str] = []

    def visit(node: str) -> None:
        seen[node] = 1
        path.append(node)
        for target in sorted(GRAPH.get(node, ())):
            if seen.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if target not in seen:
                visit(target)
        path.pop()
        seen[node] = 2

    for node in sorted(GRAPH):
        if node not in seen:
            visit(node)


def _violations(source: str, forbidden: set[str]) -> list[str]:
    return [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if stage(module) == source
        for target in sorted(targets)
        if stage(target) in forbidden
    ]


def test_the_site_never_imports_fetching_discovery_or_capture() -> None:
    assert _violations("site", {"fetch", "discover", "capture"}) == []


def test_exports_read_the_store_only() -> None:
    """An export is made from git history and the captures, as the site is: it never
    fetches, discovers, captures, or reaches into the site or the commands."""
    exports = [m for m in GRAPH if m.startswith("archiver.export")]
    assert exports, "no archiver.export package"
    top = {"archiver.cli", "archiver.sync", "archiver.demo", "archiver.health"}
    bad = [
        f"{module} imports {target}"
        for module in exports
        for target in sorted(GRAPH[module])
        if stage(target) in {"fetch", "discover", "capture", "site"} or target in top
    ]
    assert bad == []


def test_imports_go_through_capture_and_never_reach_the_site_or_commands() -> None:
    """An import or backfill is a sync whose fetches were made elsewhere: it takes the
    capture stage's checks, decisions and recorder, and never the site, discovery, an
    export or the commands on top."""
    imports = [m for m in GRAPH if m.startswith("archiver.imports")]
    assert imports, "no archiver.imports package"
    assert any(stage(t) == "capture" for m in imports for t in GRAPH[m])
    top = {"archiver.cli", "archiver.sync", "archiver.demo", "archiver.health", "archiver.verify"}
    bad = [
        f"{module} imports {target}"
        for module in imports
        for target in sorted(GRAPH[module])
        if stage(target) in {"site", "discover"}
        or target in top
        or target.startswith("archiver.export")
    ]
    assert bad == []
    users = {
        m for m, targets in GRAPH.items() if any(t.startswith("archiver.imports") for t in targets)
    }
    assert {m for m in users if not m.startswith("archiver.imports")} <= {"archiver.cli"}


def test_the_diff_engine_imports_nothing_of_the_archive() -> None:
    bad = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if stage(module) == "diff"
        for target in sorted(targets)
        if stage(target) != "diff"
    ]
    assert bad == []


def test_stages_below_capture_never_import_it_or_the_commands() -> None:
    """The check-and-record stage uses discover, fetch, extract, diff and store; none of
    those reaches back up to it, or to the commands on top."""
    top = {"archiver.cli", "archiver.sync", "archiver.demo", "archiver.health", "archiver.verify"}
    lower = {"discover", "fetch", "extract", "diff", "store"}
    bad = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if stage(module) in lower
        for target in sorted(targets)
        if stage(target) == "capture" or target in top
    ]
    assert bad == []


def test_notifications_sit_beside_the_stages_and_only_the_runs_use_them() -> None:
    """notify/ reads what the store published and speaks capture's Observer; it never
    fetches, discovers, extracts, captures (beyond capture's model) or renders the site,
    and only the commands that run a sync (and the CLI) reach it."""
    never = {"fetch", "discover", "extract", "site"}
    bad = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if module.startswith("archiver.notify")
        for target in sorted(targets)
        if stage(target) in never
        or (stage(target) == "capture" and target != "archiver.capture.model")
        or target in {"archiver.cli", "archiver.sync"}
    ]
    users = {
        module
        for module, targets in GRAPH.items()
        if not module.startswith("archiver.notify")
        and any(t.startswith("archiver.notify") for t in targets)
    }
    assert bad == []
    assert users <= {"archiver.sync", "archiver.cli"}


def test_the_export_reads_history_only_through_the_store() -> None:
    """export/ hands over what git holds: the store and the diff engine, never the stages
    that fetch and capture, nor the site."""
    bad = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if module.startswith("archiver.export")
        for target in sorted(targets)
        if stage(target) in {"fetch", "discover", "extract", "capture", "site"}
    ]
    assert bad == []


# Beside the store, the site keeps a database of its own (what its last build wrote), and
# the research export writes one (its output).
_ALSO_ALLOWED = {
    "git": set(),
    "sqlite3": {"archiver.site.buildstate", "archiver.export.tables"},
}


@pytest.mark.parametrize("library", sorted(_ALSO_ALLOWED))
def test_only_the_store_touches_git_and_the_state_database(library: str) -> None:
    users = [
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if any(m == library or m.startswith(library + ".") for m in imported(path))
    ]
    bad = [m for m in users if stage(m) != "store" and m not in _ALSO_ALLOWED[library]]
    assert bad == [], f"{library} imported outside the store: {bad}"


def test_the_state_database_is_named_only_by_the_store() -> None:
    """The site reads the sync's state through the view the store offers."""
    bad = [
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if stage(module_name(path)) != "store"
        and "FROM articles" in path.read_text(encoding="utf-8")
    ]
    assert bad == []


# Beside the stages: what runs a sync's checks on a Dask cluster, and what it may use.
CLUSTER_USES = {"capture", "fetch", "extract"}
CLUSTER_TOP = {"archiver", "archiver.archive", "archiver.config", "archiver.errors"}


def test_the_cluster_is_reached_from_the_sync_alone() -> None:
    """`archiver.sync` (on --scheduler's path only) is the one way into `archiver.cluster`,
    which uses the check's stages and never the store, the site or the commands."""
    inside = {m for m in GRAPH if m.startswith("archiver.cluster")}
    importers = {m for m, targets in GRAPH.items() if targets & inside and m not in inside}
    assert importers == {"archiver.sync"}
    bad = [
        f"{module} imports {target}"
        for module in sorted(inside)
        for target in sorted(GRAPH[module] - inside)
        if stage(target) not in CLUSTER_USES and target not in CLUSTER_TOP
    ]
    assert bad == []


def test_only_the_cluster_imports_dask() -> None:
    users = [
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if any(m.split(".")[0] in ("dask", "distributed") for m in imported(path))
    ]
    assert users and all(m.startswith("archiver.cluster") for m in users), users
