"""Is the machine able to run the mail lab? If not, can we install what is missing?"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO_ROOT / "scripts" / "install-test-deps.sh"
RUN_USER = "dovelab"
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
# binary -> Debian package
REQUIRED = {
    "dovecot": "dovecot-imapd",
    "doveadm": "dovecot-core",
    "postfix": "postfix",
    "runuser": "util-linux",
}
LMTP_BINARY = "/usr/lib/dovecot/lmtp"


def which(name: str) -> str | None:
    """``shutil.which`` that also looks in the sbin directories."""
    return shutil.which(name, path=SBIN_PATH)


def missing() -> list[str]:
    """What the mail lab lacks on this machine (binaries, LMTP service, the run user)."""
    out = [f"{b} ({pkg})" for b, pkg in REQUIRED.items() if which(b) is None]
    if not os.path.exists(LMTP_BINARY):
        out.append(f"{LMTP_BINARY} (dovecot-lmtpd)")
    try:
        pwd.getpwnam(RUN_USER)
    except KeyError:
        out.append(f"user {RUN_USER}")
    return out


def ensure() -> str | None:
    """Install what is missing when we are root. Return None when ready, else the reason."""
    lacking = missing()
    if not lacking:
        return None
    if os.geteuid() != 0:
        return (f"mail lab needs {', '.join(lacking)}; not root, so cannot install them "
                f"(run: sudo {INSTALL_SCRIPT})")
    proc = subprocess.run(["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True,
                          timeout=900, check=False)
    lacking = missing()
    if proc.returncode != 0 or lacking:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        return (f"{INSTALL_SCRIPT} exited {proc.returncode}; still missing: "
                f"{', '.join(lacking) or 'nothing'}\n{tail}")
    return None
