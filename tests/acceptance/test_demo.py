"""``make demo`` (issue 16 item 17): a newcomer gets a working local mailbox and a link to the
pages. The script is run as ``make demo`` runs it; the printed settings must really connect,
test and send, and Ctrl-C must stop everything."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from lab.ports import free_port

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_make_demo_gives_a_mailbox_that_connects_tests_and_sends(mail_lab: Any) -> None:
    port = free_port()
    # In Dutch: the instructions name the pages' buttons and fields as the pages show them.
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}, "MAILPORT_PORT": str(port),
           "DEMO_LANG": "nl"}
    demo = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "demo.py")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    later: list[str] = []
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        assert demo.stdout is not None
        while not any(line.startswith("Ctrl-C stops") for line in lines):
            assert time.monotonic() < deadline and demo.poll() is None, "".join(lines)
            lines.append(demo.stdout.readline())
        text = "".join(lines)
        # The rest of its output (serve's and the lab's) is read on: a pipe nobody reads fills
        # up, and a process writing to it blocks — the demo could not stop then.
        drain = threading.Thread(target=lambda: later.extend(demo.stdout or ()), daemon=True)
        drain.start()
        link = re.search(r"Open (http://\S+)", text)
        key = re.search(r"API key is (mpk_\S+)\)", text)
        password = re.search(r"Wachtwoord of app-wachtwoord: (\S+)", text)
        smtp = re.search(r"Uitgaande server \(SMTP\)\s+127\.0\.0\.1\s+port (\d+)", text)
        imap = re.search(r"Inkomende server \(IMAP\)\s+127\.0\.0\.1\s+port (\d+)", text)
        assert '"Stuur een testmail naar mezelf"' in text and '"Mailbox koppelen"' in text, text
        assert link and key and password and smtp and imap, text
        assert httpx.get(link.group(1), follow_redirects=True).status_code == 200  # the pages open

        headers = {"Authorization": f"Bearer {key.group(1)}"}
        base = f"http://127.0.0.1:{port}"
        account = httpx.post(f"{base}/v1/accounts", headers=headers, json={
            "email": "info@bakkerij.test", "password": password.group(1),
            "smtp": {"host": "127.0.0.1", "port": int(smtp.group(1)), "security": "starttls"},
            "imap": {"host": "127.0.0.1", "port": int(imap.group(1)), "security": "tls"}}).json()
        verified = httpx.post(f"{base}/v1/accounts/{account['id']}/verify", headers=headers, timeout=60).json()
        assert verified["ok"], verified
        sent = httpx.post(f"{base}/v1/messages", headers=headers, json={
            "to": ["klant@bakkerij.test"], "subject": "Factuur 1", "text": "Beste klant,"}).json()
        deadline = time.monotonic() + 30
        while httpx.get(f"{base}/v1/messages/{sent['id']}", headers=headers).json()["state"] != "sent":
            assert time.monotonic() < deadline, "the demo's invoice was not sent"
            time.sleep(0.3)
        work = re.search(r"removes its files \((\S+)\)", text)
        assert work is not None
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=90)
        except subprocess.TimeoutExpired:
            still = [" ".join(p.cmdline()[:4]) for p in psutil.Process(demo.pid).children(recursive=True)]
            os.killpg(demo.pid, signal.SIGKILL)
            raise AssertionError(f"the demo did not stop on Ctrl-C; still running: {still}; "
                                 f"its output after the settings: {''.join(later)[-3000:]}") from None
    assert demo.returncode == 0
    assert not Path(work.group(1)).exists()  # cleaned up
