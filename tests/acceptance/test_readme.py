"""The README's "First five minutes", pasted as it is into a shell at the top of a fresh checkout.

The checkout holds exactly the repository's tracked files (as in the working tree, so an edited
README is what runs) and no ``var/`` and no ``.venv``. Only one thing is prepared: an empty
virtualenv whose path also sees the packages of the running test's environment, so ``make
serve``'s real ``pip install -e '.[test,dev,example]'`` finds every dependency present and
installs mailport itself in seconds rather than downloading the world — the install still runs,
in the background, while the block's next line waits for it, which is what issue 16 was about.

The only edit to the block is the port (a free one instead of 8400, so parallel runs do not
collide). Each command must exit 0; the outputs are checked for what the README's comments promise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from lab.ports import free_port
from mailport.diagnosis_text import explain_code

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no sh block under {heading!r}"
    return match.group(1)


def fresh_checkout(target: Path) -> Path:
    # Tracked files and new ones not yet committed (not the ignored: .venv, var/, caches).
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file():  # (a file deleted in the working tree but not yet in git)
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def seed_virtualenv(checkout: Path) -> None:
    """An empty venv; a .pth puts this environment's site-packages behind its own."""
    subprocess.run([_base_python(), "-m", "venv", str(checkout / ".venv")], check=True)
    purelib = Path(subprocess.run([str(checkout / ".venv/bin/python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    (purelib / "zz_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


def _base_python() -> str:
    return getattr(sys, "_base_executable", None) or shutil.which("python3") or "python3"


def _quiet(stderr: str) -> str:
    """stderr without the waiting loop's trace lines (the server's own errors stay)."""
    return "\n".join(line for line in stderr.splitlines()
                     if not line.startswith(("+ README: curl -sf", "+ README: sleep", "+ README: kill -0")))[-6000:]


def json_documents(text: str) -> list[object]:
    """Every JSON document curl printed (one after another, without newlines between them)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (starts := [i for i in (text.find("{", at), text.find("[", at)) if i >= 0]):
        try:
            document, at = decoder.raw_decode(text, min(starts))
        except ValueError:
            at = min(starts) + 1
            continue
        found.append(document)
    return found


def test_first_five_minutes_run_as_pasted(tmp_path: Path) -> None:
    checkout = fresh_checkout(tmp_path / "mailport")
    seed_virtualenv(checkout)
    port = free_port()
    block = readme_block("First five minutes").replace("127.0.0.1:8400", f"127.0.0.1:{port}")
    assert "8400" not in block
    # `set -e` and a trace: the first command that fails stops the block and names itself.
    script = "set -euo pipefail\nPS4='+ README: '\nset -x\n" + block + "\nkill %1\nwait\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_") and k != "VIRTUAL_ENV"}
    env |= {"MAILPORT_PORT": str(port), "PATH": f"/usr/bin:/bin:{env.get('PATH', '')}",
            # The verify step looks up ziggo.nl's servers; keep it off the internet and quick.
            "MAILPORT_CONNECT_TIMEOUT": "3"}
    process = subprocess.Popen(["bash", "-c", script], cwd=checkout, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"the block did not finish in 4 minutes\n{stdout}\n{_quiet(stderr)}")
    finally:
        try:  # whatever the block left running (the server) goes with its session
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    assert process.returncode == 0, f"exit {process.returncode}\n{stdout}\n{_quiet(stderr)}"

    documents: list[Any] = json_documents(stdout)
    print(json.dumps(documents, indent=1)[:6000])  # shown when an assertion below fails
    assert {"status": "ok"} in documents, stdout
    # The operator's tenant list (other output, e.g. a "[1]" from the shell, is no list of objects).
    tenants = next(d for d in documents if isinstance(d, list) and d and all(isinstance(t, dict) for t in d))
    assert [t["name"] for t in tenants] == ["acme"]
    discovered = next(d for d in documents if isinstance(d, dict) and "trace" in d)
    assert discovered["provider"]["id"] == "ziggo" and discovered["smtp"]["host"] == "smtp.ziggo.nl", discovered
    report = next(d for d in documents if isinstance(d, dict) and "stages" in d)
    assert report["ok"] is False and report["diagnosis"]["title"], report  # explained…
    dutch = explain_code(report["diagnosis"]["code"], "nl")  # …in Dutch, as asked
    assert report["diagnosis"]["title"] == dutch.title != explain_code(report["diagnosis"]["code"], "en").title
    message = documents[-1]
    assert message["subject"] == "Factuur 2026-0042" and message["id"].startswith("msg_"), message
    # A fresh data directory inside the checkout, with its generated development keys.
    assert (checkout / "var" / "admin.key").exists() and (checkout / "var" / "mailport.db").exists()
