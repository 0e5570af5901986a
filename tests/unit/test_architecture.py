"""The rule that keeps mailport easy to change: core/ is pure and imports no I/O layer."""

import ast
from pathlib import Path

import mailport

SRC = Path(mailport.__file__).parent
FORBIDDEN = ("mailport.adapters", "mailport.services", "mailport.api", "mailport.web", "mailport.cli",
             "mailport.runtime", "mailport.worker")
IO_MODULES = ("socket", "sqlalchemy", "httpx", "aiosmtplib", "imapclient", "aioimaplib", "dns.resolver", "asyncio")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_imports_no_io_layer() -> None:
    offenders = []
    for path in sorted((SRC / "core").rglob("*.py")):
        for name in _imports(path):
            if name.startswith(FORBIDDEN) or name.startswith(IO_MODULES):
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_errors_have_one_root() -> None:
    from mailport import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.MailportError), name


def test_test_module_names_are_unique() -> None:
    """pytest imports test modules by basename (rootdir-relative dirs are not packages)."""
    tests = Path(__file__).resolve().parents[1]
    names = [p.name for p in tests.rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_public_surface_is_explicit() -> None:
    public = {name for name in vars(mailport) if not name.startswith("_")} - {
        "errors", "core", "adapters", "services", "api", "web", "cli", "client", "runtime", "settings",
        "logs", "i18n", "clock", "ids", "worker", "diagnosis_text", "settings_doc",
    }
    assert public == set(mailport.__all__) - {"__version__"}
    for name in mailport.__all__:
        assert hasattr(mailport, name), name
