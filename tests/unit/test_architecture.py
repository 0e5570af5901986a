"""The rules that keep mailport easy to change: dependencies point down the layers only.

    api/  web/  cli/         entry points: may use runtime, services, core; never adapters
        runtime.py, worker.py composition root and job loop
            services/        use cases: core + adapters, never an entry point or the worker
                adapters/    I/O: core only
                    core/    pure: no I/O library, no layer above
    errors, settings, i18n, clock, ids, logs, diagnosis_text: shared foundation, no layer
    client/                  the host product's library: imports no server code
"""

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
            # ``from mailport import errors`` imports the module mailport.errors
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_core_imports_no_io_layer() -> None:
    offenders = []
    for path in sorted((SRC / "core").rglob("*.py")):
        for name in _imports(path):
            if name.startswith(FORBIDDEN) or name.startswith(IO_MODULES):
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


ENTRY = ("mailport.api", "mailport.web", "mailport.cli")
LAYERED = ("mailport.adapters", "mailport.services", *ENTRY, "mailport.runtime", "mailport.worker",
           "mailport.client")
FOUNDATION = ("errors", "settings", "settings_doc", "i18n", "clock", "ids", "logs", "diagnosis_text")

# Each part of the package and the imports it must not make (prefix match on module names).
RULES: dict[str, tuple[str, ...]] = {
    "adapters": ("mailport.services", *ENTRY, "mailport.runtime", "mailport.worker", "mailport.client"),
    "services": (*ENTRY, "mailport.runtime", "mailport.worker", "mailport.client"),
    "worker.py": ("mailport.services", *ENTRY, "mailport.runtime", "mailport.client"),
    "runtime.py": (*ENTRY, "mailport.client"),
    "api": ("mailport.adapters", "mailport.cli", "mailport.worker", "mailport.client"),
    "web": ("mailport.adapters", "mailport.cli", "mailport.api", "mailport.worker", "mailport.client"),
    "cli": ("mailport.adapters", "mailport.worker", "mailport.client"),
    **{f"{name}.py": LAYERED for name in FOUNDATION},
}


def _files(part: str) -> list[Path]:
    target = SRC / part
    return [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))


def _violations_in(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{path.name if not path.is_relative_to(SRC) else path.relative_to(SRC)} imports {name}"
            for name in sorted(_imports(path))
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


def _violations(part: str, forbidden: tuple[str, ...]) -> list[str]:
    return [v for path in _files(part) for v in _violations_in(path, forbidden)]


def test_every_layer_imports_only_downwards() -> None:
    offenders = [v for part, forbidden in RULES.items() for v in _violations(part, forbidden)]
    assert offenders == []


# The one rule for storage access: statements live in repositories (``adapters/storage/``). A
# service holds the ``Session`` (the transaction it passes to repositories) and may catch
# ``sqlalchemy.exc`` errors; it builds no statement (no ``select``/``insert``/``text``, no engine) and
# runs none itself. Entry points reach storage only through services. The CLI renders the database
# URL with its password hidden (``make_url``), which is parsing, not access.
STORAGE_USERS = ("services", "api", "web", "cli", "worker.py", "runtime.py")
SQLALCHEMY_ALLOWED = ("sqlalchemy.orm.Session", "sqlalchemy.exc", "sqlalchemy.engine.make_url")
STATEMENT_RUNNERS = ("execute", "scalar", "scalars", "query")
SESSION_NAMES = ("s", "session", "db_session")


def _storage_offences(path: Path) -> list[str]:
    where = path.name if not path.is_relative_to(SRC) else str(path.relative_to(SRC))
    found = [f"{where} imports {name}" for name in sorted(_imports(path))
             if name.split(".")[0] == "sqlalchemy"
             and not any(name == a or name.startswith(a + ".") for a in SQLALCHEMY_ALLOWED)]
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in STATEMENT_RUNNERS and isinstance(node.func.value, ast.Name)
                and node.func.value.id in SESSION_NAMES):
            found.append(f"{where}:{node.lineno} runs a statement ({node.func.value.id}.{node.func.attr})")
        elif isinstance(node, ast.Attribute) and node.attr == "engine":
            found.append(f"{where}:{node.lineno} reaches the engine")
    return found


def test_only_repositories_build_sql() -> None:
    """Services, the worker, the runtime and entry points build and run no SQL: repositories do."""
    offenders = [v for part in STORAGE_USERS for path in _files(part) for v in _storage_offences(path)]
    assert offenders == []


def test_the_storage_rule_catches_inline_sql(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from sqlalchemy import select\nfrom sqlalchemy.orm import Session\n"
                   "def f(s: Session, db) -> None:\n    s.scalar(select(1))\n    db.engine.dispose()\n")
    assert _storage_offences(bad) == ["bad.py imports sqlalchemy.select", "bad.py:4 runs a statement (s.scalar)",
                                      "bad.py:5 reaches the engine"]


def test_layer_rules_cover_every_module() -> None:
    """A new top-level module or package must be given its place in RULES (or be core/client)."""
    parts = {p.name for p in SRC.iterdir() if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert parts - set(RULES) - {"core", "client", "__init__.py", "locale"} == set()


def test_client_imports_no_server_code() -> None:
    """``mailport.client`` is installed into host products: only errors and signature checks."""
    allowed = ("mailport.client", "mailport.errors", "mailport.core.webhooks", "mailport.__version__")
    offenders = [f"{path.relative_to(SRC)} imports {name}" for path in _files("client")
                 for name in sorted(_imports(path))
                 if name.startswith("mailport") and not any(name == a or name.startswith(a + ".") for a in allowed)]
    assert offenders == []


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    """The checker itself: an upward import is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from mailport.api.app import create_app\nimport mailport.worker\n")
    assert _imports(bad) == {"mailport.api.app.create_app", "mailport.worker"}
    assert _violations_in(bad, RULES["services"]) == ["bad.py imports mailport.api.app.create_app",
                                                      "bad.py imports mailport.worker"]


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


# The outbox's listing is renamed together with services/send/ (being reworked on its own branch).
LIST_METHODS_LEFT: set[str] = set()


def test_no_server_method_is_named_list() -> None:
    """A method named ``list`` shadows the builtin in its class's annotations (``builtins.list``
    workarounds, a real type error once); the public client's ``.list()`` is the exception."""
    found = set()
    for part in ("adapters", "services", "api", "web", "cli"):
        for path in _files(part):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef) and any(
                        isinstance(f, ast.FunctionDef) and f.name == "list" for f in node.body):
                    found.add(f"{path.relative_to(SRC)}:{node.name}")
    assert found - LIST_METHODS_LEFT == set()
