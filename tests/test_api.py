"""The library's public face: `archiver`'s names resolve, are typed and documented, and
importing the package stays cheap."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import archiver

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "archiver"


def test_every_public_name_resolves_to_what_its_module_defines() -> None:
    namespace: dict[str, object] = {}
    exec("from archiver import *", namespace)
    names = set(namespace) - {"__builtins__"}
    assert names == set(archiver.__all__)
    for name in archiver.__all__:
        if name == "__version__":
            continue
        module = sys.modules[archiver._EXPORTS[name]]
        assert namespace[name] is getattr(module, name), name
    assert "Archive" in dir(archiver)


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        archiver.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("archiver.no_such_name resolved")


def test_no_public_name_is_also_a_submodule() -> None:
    """`archiver.sync` is a module: a function of that name would make `archiver.sync`
    depend on which of the two was imported first."""
    clashes = [
        name
        for name in archiver.__all__
        if (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()
    ]
    assert clashes == []


def test_each_public_name_is_documented() -> None:
    docs = (ROOT / "README.md").read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))
    )
    missing = [name for name in archiver.__all__ if f"`{name}" not in docs]
    assert missing == []


def test_the_type_stub_names_what_all_lists() -> None:
    """Type checkers read __init__.pyi, as they cannot follow the lazy imports."""
    stub = ast.parse((PACKAGE / "__init__.pyi").read_text(encoding="utf-8"))
    named = {a.asname for n in stub.body if isinstance(n, ast.ImportFrom) for a in n.names}
    named |= {
        n.target.id
        for n in stub.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }
    assert named - {"__all__"} == set(archiver.__all__)
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = wheel["tool"]["setuptools"]["package-data"]["archiver"]
    assert {"py.typed", "__init__.pyi"} <= set(shipped)
    assert (PACKAGE / "py.typed").is_file()


def test_importing_the_package_loads_none_of_its_modules() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import archiver, sys; print(*sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    ours = [m for m in loaded if m.startswith("archiver")]
    heavy = [m for m in loaded if m.split(".")[0] in {"git", "lxml", "aiohttp", "trafilatura"}]
    assert (ours, heavy) == (["archiver"], [])
