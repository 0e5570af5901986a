"""``make demo``: a real mailbox on this machine to connect, test and send from in the browser.

Starts the test lab's Dovecot (IMAP) and Postfix (SMTP submission) on free loopback ports with
one mailbox, runs ``mailport serve`` on a fresh data directory that trusts the lab's certificate
authority, creates a tenant, and prints the mailbox's settings and a sign-in link to the pages.
Ctrl-C stops everything and removes the temporary files. Needs the Debian packages of the lab
(``make lab-deps``) and root, like the tests that use it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from lab import LabCA, MailLab  # the lab lives beside the tests
from lab import deps as lab_deps
from mailport.i18n import gettext


def _wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("mailport serve stopped; see its output above")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("mailport serve did not become ready in time")


def main() -> int:
    reason = lab_deps.ensure()
    if reason is not None:
        print(f"make demo needs the lab's mail servers: {reason} (try: make lab-deps)", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("make demo must run as root (Postfix refuses to start otherwise)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="mailport-demo-"))
    email, password = "info@bakkerij.test", "demo-" + secrets.token_urlsafe(8)
    ca = LabCA(work / "ca")
    lab = MailLab(ca, users={email: password, "klant@bakkerij.test": "demo-customer"})
    server: subprocess.Popen[bytes] | None = None
    try:
        lab.start()
        port = int(os.environ.get("MAILPORT_PORT") or 8400)
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "MAILPORT_DATA_DIR": str(work / "var"), "MAILPORT_PORT": str(port),
               "MAILPORT_ALLOW_PRIVATE_HOSTS": "true", "MAILPORT_CA_FILE": str(ca.ca_pem_path),
               "MAILPORT_DISCOVERY_PROBE": "false", "MAILPORT_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen([sys.executable, "-m", "mailport.cli", "serve"], env=env)
        _wait_ready(base, server)
        admin = (work / "var" / "admin.key").read_text().strip()
        tenant = httpx.post(f"{base}/v1/tenants", json={"name": "Bakkerij Demo"},
                            headers={"Authorization": f"Bearer {admin}"}).json()
        key = tenant["api_key"]
        lang = os.environ.get("DEMO_LANG", "en")
        link = httpx.post(f"{base}/v1/ui-sessions", headers={"Authorization": f"Bearer {key}"},
                          json={"user_name": "Demo", "language": lang,
                                "time_zone": "Europe/Amsterdam"}).json()["url"]

        def ui(text: str) -> str:  # the pages' own words, in the pages' language (the rest stays English)
            return gettext(lang, text)

        smtp, imap = ui("Outgoing server (SMTP)"), ui("Incoming server (IMAP)")
        width = max(len(smtp), len(imap))
        print(f"""
mailport demo — a local mailbox to connect, test and send from

  1. Open {link}
     (valid for a few minutes; the tenant's API key is {key})
  2. "{ui("Own mailbox (SMTP)")}" → "{ui("Connect a mailbox")}", with:
       {ui("E-mail address")}: {email}
       {ui("Password or app password")}: {password}
       "{ui("Advanced settings")}":
         {smtp:<{width}}  127.0.0.1  port {lab.submission_port}  STARTTLS
         {imap:<{width}}  127.0.0.1  port {lab.imaps_port}  SSL/TLS
  3. "{ui("Send a test mail to myself")}", then "{ui("Save")}".
  4. Send an invoice through the API to klant@bakkerij.test:
       curl -s -H "Authorization: Bearer {key}" -H 'content-type: application/json' \\
            {base}/v1/messages -d '{{"to":["klant@bakkerij.test"],"subject":"Factuur 1","text":"Beste klant,"}}'
     and watch it in "{ui("Outbox")}".

Ctrl-C stops the demo and removes its files ({work}).
""", flush=True)
        try:
            while server.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
        print("mailport serve stopped", file=sys.stderr)
        return 1
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        lab.stop()
        shutil.rmtree(work, ignore_errors=True)


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    # Ctrl-C stops the demo even when it was started with SIGINT ignored (a background job of a
    # non-interactive shell inherits that, and Python then leaves it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop)
    sys.exit(main())
