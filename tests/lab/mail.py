"""MailLab: a real Dovecot (IMAP, IMAPS, LMTP, SASL) and Postfix (submission with AUTH) on loopback.

One instance lives in its own temp dir with its own free ports, so several test runs on one
machine never collide. Layout of :attr:`MailLab.root`::

    tls/         ca.pem, server-chain.pem, server-key.pem (from the lab CA)
    dovecot/     dovecot.conf, users (passwd-file), run/ (base_dir), state/
    postfix/     etc/ (main.cf, master.cf), queue/, data/
    mail/<domain>/<local>/Maildir
    logs/        dovecot.log, postfix.log

Dovecot runs rootless as the system user ``dovelab``; Postfix must be started as root (its
daemons drop to ``postfix``). Mail flow: client -> Postfix submission (AUTH checked by Dovecot
SASL) -> queue -> Dovecot LMTP -> Maildir. LMTP rejects unknown users with 550 5.1.1, and
Postfix then sends a real DSN back to the sender's mailbox.
"""

from __future__ import annotations

import contextlib
import email.policy
import math
import os
import pwd
import shutil
import signal
import smtplib
import socket
import ssl
import string
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Self

import psutil

from .deps import RUN_USER, which
from .ports import LOOPBACK, free_ports
from .tls import LabCA

TEMPLATES = Path(__file__).with_name("templates")
POSTFIX_FILES = Path("/etc/postfix/postfix-files")
DEFAULT_USERS: dict[str, str] = {
    "user@example.test": "password",
    "user2@example.test": "password",
}
_PORT_NAMES = ("imap_port", "imaps_port", "lmtp_port", "auth_port",
               "submission_port", "smtps_port", "relay_port")


class LabStartError(RuntimeError):
    """A lab server did not come up; the message carries the tail of the logs."""


def _render(template: str, values: Mapping[str, Any]) -> str:
    return string.Template((TEMPLATES / template).read_text()).substitute(values)


def _wait_greeting(port: int, prefix: bytes, deadline: float, *, tls: ssl.SSLContext | None = None,
                   send: bytes | None = None) -> None:
    """Connect to 127.0.0.1:port until the server greets with ``prefix`` (or just accepts if
    prefix is empty)."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=2) as raw:
                sock: socket.socket = raw
                if tls is not None:
                    sock = tls.wrap_socket(raw, server_hostname="localhost")
                if send:
                    sock.sendall(send)
                if not prefix:
                    return
                data = b""
                while not data.endswith(b"\n"):
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(prefix):
                    if send is None:
                        with contextlib.suppress(OSError):
                            sock.sendall(b"QUIT\r\n" if prefix[:1].isdigit() else b"a LOGOUT\r\n")
                    return
                last = RuntimeError(f"unexpected greeting {data[:200]!r}")
        except (OSError, ssl.SSLError) as exc:
            last = exc
        time.sleep(0.02)
    raise TimeoutError(f"port {port}: no greeting {prefix!r}: {last}")


class MailLab:
    """A running Dovecot + Postfix pair (see the module docstring).

    Attributes after :meth:`start`: ``host`` ("127.0.0.1"), ``imap_port`` (IMAP, STARTTLS offered),
    ``imaps_port`` (implicit TLS), ``lmtp_port``, ``auth_port`` (Dovecot SASL), ``submission_port``
    (Postfix, AUTH PLAIN/LOGIN, STARTTLS offered, AUTH allowed without TLS on loopback),
    ``smtps_port`` (Postfix implicit TLS + AUTH), ``relay_port`` (Postfix, no AUTH, loopback only),
    ``users`` (email -> password), ``root`` (temp dir), ``ca_pem_path`` / ``ca_pem``.
    """

    host = LOOPBACK
    imap_port: int
    imaps_port: int
    lmtp_port: int
    auth_port: int
    submission_port: int
    smtps_port: int
    relay_port: int

    def __init__(self, ca: LabCA, *, users: Mapping[str, str] | None = None,
                 run_user: str = RUN_USER, keep: bool | None = None) -> None:
        self.ca = ca
        self.run_user = run_user
        self.users: dict[str, str] = dict(DEFAULT_USERS if users is None else users)
        self.keep = bool(os.environ.get("MAILPORT_LAB_KEEP")) if keep is None else keep
        self.root = Path(tempfile.mkdtemp(prefix=LAB_PREFIX))
        os.chmod(self.root, 0o755)
        self._pw = pwd.getpwnam(run_user)
        self._started = False
        self.start_seconds: float | None = None

    # ------------------------------------------------------------------ paths
    @property
    def ca_pem_path(self) -> Path:
        """Path of the CA certificate (PEM) that signs the servers' certificate."""
        return self.root / "tls" / "ca.pem"

    @property
    def ca_pem(self) -> bytes:
        """The CA certificate as PEM bytes."""
        return self.ca.ca_pem

    @property
    def dovecot_conf(self) -> Path:
        return self.root / "dovecot" / "dovecot.conf"

    @property
    def postfix_etc(self) -> Path:
        return self.root / "postfix" / "etc"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    def maildir_path(self, email_address: str, mailbox: str = "INBOX") -> Path:
        """The Maildir directory of ``email_address`` (``mailbox`` other than INBOX: its
        Maildir++ subfolder, e.g. ``Sent`` -> ``.../Maildir/.Sent``). It may not exist yet."""
        local, _, domain = email_address.lower().partition("@")
        base = self.root / "mail" / domain / local / "Maildir"
        if mailbox.upper() == "INBOX":
            return base
        return base / ("." + mailbox.replace("/", "."))

    # ------------------------------------------------------------------ lifecycle
    def start(self, *, attempts: int = 3) -> MailLab:
        """Write the configs, start Dovecot and Postfix, wait until both greet."""
        t0 = time.monotonic()
        reap_stale_labs()
        self._prepare_dirs()
        (self.root / OWNER_FILE).write_text(_owner_stamp(os.getpid()))
        last: Exception | None = None
        for attempt in range(attempts):
            ports = free_ports(len(_PORT_NAMES))
            for name, port in zip(_PORT_NAMES, ports, strict=True):
                setattr(self, name, port)
            self._write_configs()
            try:
                self._start_dovecot()
                self._start_postfix()
                self._wait_ready()
            except (LabStartError, TimeoutError, subprocess.SubprocessError) as exc:
                last = exc
                self._stop_servers()
                if "in use" not in f"{exc}\n{self._log_text()}":
                    break  # not a port clash: retrying will not help
                continue
            self._started = True
            self.start_seconds = time.monotonic() - t0
            return self
        raise LabStartError(f"mail lab did not start: {last}\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop both servers (stop commands, then kill leftovers), remove the temp dir unless
        ``keep`` (env MAILPORT_LAB_KEEP=1)."""
        self._stop_servers()
        self._started = False
        if self.keep:
            (self.root / KEPT_FILE).touch()
            (self.root / OWNER_FILE).unlink(missing_ok=True)
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _prepare_dirs(self) -> None:
        uid, gid = self._pw.pw_uid, self._pw.pw_gid
        self.ca.write_copy(self.root / "tls")
        for sub in ("dovecot/run", "dovecot/state", "mail", "postfix/etc", "postfix/queue",
                    "postfix/data", "logs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for sub in ("dovecot", "dovecot/run", "dovecot/state", "mail"):
            os.chown(self.root / sub, uid, gid)
        os.chmod(self.root / "logs", 0o755)
        dlog = self.log_dir / "dovecot.log"
        dlog.touch()
        os.chown(dlog, uid, gid)
        pf = pwd.getpwnam("postfix")
        os.chown(self.root / "postfix" / "data", pf.pw_uid, pf.pw_gid)
        self._write_users()

    def _write_configs(self) -> None:
        values = {name: getattr(self, name) for name in _PORT_NAMES}
        values.update(root=str(self.root), user=self.run_user,
                      instance_name=f"mailport-lab-{uuid.uuid4().hex[:10]}")
        self.dovecot_conf.write_text(_render("dovecot.conf.tmpl", values))
        (self.postfix_etc / "main.cf").write_text(_render("postfix-main.cf.tmpl", values))
        (self.postfix_etc / "master.cf").write_text(_render("postfix-master.cf.tmpl", values))
        os.chmod(self.dovecot_conf, 0o644)
        # Postfix re-reads a main.cf modified within the last ~2 s every 0.3 s until it looks
        # stable (against half-written files): 1.8 s lost per start. Backdate the files.
        past = time.time() - 60
        for cf in ("main.cf", "master.cf"):
            os.utime(self.postfix_etc / cf, (past, past))

    def _write_users(self) -> None:
        path = self.root / "dovecot" / "users"
        tmp = path.with_name("users.tmp")
        fields = getattr(self, "user_fields", {})
        tmp.write_text("".join(f"{u}:{{PLAIN}}{p}::::::{fields.get(u, '')}\n" for u, p in self.users.items()))
        os.chown(tmp, self._pw.pw_uid, self._pw.pw_gid)
        os.chmod(tmp, 0o600)
        # Dovecot re-reads the file when its mtime (seconds) or size changed: make the mtime
        # move forward on every write, even two writes within one second.
        self._users_mtime = max(int(time.time()), getattr(self, "_users_mtime", 0) + 1)
        os.utime(tmp, (self._users_mtime, self._users_mtime))
        os.replace(tmp, path)

    def add_users(self, users: Mapping[str, str], *, fields: str = "") -> None:
        """Add (or change) several mailbox users (email -> password) while the lab runs.

        Returns once Dovecot sees them. Dovecot stats its passwd-file at most once per
        wall-clock second, so this waits until the next second begins (<= 1 s): batch users here
        rather than calling :meth:`add_user` in a loop.
        """
        self.users.update(users)
        if fields:
            # userdb extra fields, e.g. "userdb_mail=mdbox:~/mdbox userdb_mail_fsync=never" for a
            # big fixture (mdbox appends several times faster than Maildir).
            self.user_fields: dict[str, str] = {**getattr(self, "user_fields", {}), **dict.fromkeys(users, fields)}
        self._write_users()
        if self._started:
            now = time.time()
            time.sleep(max(0.0, math.floor(now) + 1.02 - now))

    def add_user(self, email_address: str, password: str = "password", *, fields: str = "") -> None:
        """Add (or change) one mailbox user while the lab runs (see :meth:`add_users`)."""
        self.add_users({email_address: password}, fields=fields)

    def _run(self, argv: list[str], *, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        # Output goes to a file, not a pipe: a daemon that forks keeps a pipe open for ever.
        with tempfile.TemporaryFile(mode="w+") as out:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                  text=True, timeout=timeout, check=False)
            out.seek(0)
            proc.stdout, proc.stderr = out.read(), ""
        if proc.returncode != 0:
            raise LabStartError(f"{' '.join(argv)} exited {proc.returncode}: "
                                f"{proc.stdout.strip()}")
        return proc

    def _dovecot_argv(self, *extra: str) -> list[str]:
        dovecot = which("dovecot") or "/usr/sbin/dovecot"
        if os.geteuid() == 0:
            return [which("runuser") or "runuser", "-u", self.run_user, "--", dovecot,
                    "-c", str(self.dovecot_conf), *extra]
        return [dovecot, "-c", str(self.dovecot_conf), *extra]

    def _start_dovecot(self) -> None:
        self._run(self._dovecot_argv())

    def _postfix(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return self._run([which("postfix") or "/usr/sbin/postfix", "-c", str(self.postfix_etc),
                          *args], timeout=timeout)

    def _make_postfix_queue(self) -> bool:
        """Create the queue tree as Postfix's own ``post-install create-missing`` would (from
        /etc/postfix/postfix-files), so ``postfix start`` may skip its integrity checks (the
        ``quick-start`` marker, as after ``postfix quick-stop``): 0.2 s instead of 2 s."""
        try:
            spec = POSTFIX_FILES.read_text()
        except OSError:
            return False
        owners = {"$mail_owner": "postfix", "$setgid_group": "postdrop", "-": None}
        queue = self.root / "postfix" / "queue"
        for line in spec.splitlines():
            fields = line.split(":")
            if len(fields) < 5 or fields[1] != "d" or not fields[0].startswith("$queue_directory"):
                continue
            path = queue / fields[0].removeprefix("$queue_directory").lstrip("/")
            path.mkdir(parents=True, exist_ok=True)
            user, group = owners.get(fields[2], fields[2]), owners.get(fields[3], fields[3])
            shutil.chown(path, user=user, group=group) if (user or group) else None
            os.chmod(path, int(fields[4], 8))
        (queue / "quick-start").touch()
        return True

    def _start_postfix(self) -> None:
        self._make_postfix_queue()
        self._postfix("start")

    def _wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        ctx = self.client_ssl_context()
        _wait_greeting(self.imap_port, b"* OK", deadline)
        _wait_greeting(self.imaps_port, b"* OK", deadline, tls=ctx)
        _wait_greeting(self.lmtp_port, b"220", deadline)
        _wait_greeting(self.auth_port, b"", deadline)
        _wait_greeting(self.submission_port, b"220", deadline)
        _wait_greeting(self.smtps_port, b"220", deadline, tls=ctx)
        _wait_greeting(self.relay_port, b"220", deadline)

    def _pidfile_pid(self, path: Path) -> int | None:
        return _pidfile_pid(path)

    def _tree(self, pid: int | None) -> list[psutil.Process]:
        return _tree(pid)

    def _stop_servers(self) -> None:
        _stop_servers_at(self.root)

    def restart_dovecot(self, *, down_seconds: float = 0.0, timeout: float = 20) -> None:
        """Kill Dovecot's whole process tree (as a crash would: open connections drop), stay down
        ``down_seconds``, start it again on the same ports, wait until it greets, and reload
        Postfix so its smtpd processes reconnect to Dovecot auth (else a 454 per process)."""
        procs = self._tree(self._pidfile_pid(self.root / "dovecot" / "run" / "master.pid"))
        for p in procs:
            with contextlib.suppress(psutil.Error):
                p.kill()
        _wait_gone(procs, 5)
        # A killed master may linger as a zombie (PID 1 reaps late) and Dovecot would take its
        # pidfile for a running instance.
        (self.root / "dovecot" / "run" / "master.pid").unlink(missing_ok=True)
        time.sleep(down_seconds)
        self._start_dovecot()
        deadline = time.monotonic() + timeout
        _wait_greeting(self.imap_port, b"* OK", deadline)
        _wait_greeting(self.imaps_port, b"* OK", deadline, tls=self.client_ssl_context())
        _wait_greeting(self.lmtp_port, b"220", deadline)
        _wait_greeting(self.auth_port, b"", deadline)
        # Running smtpd processes keep their (now dead) SASL connection to Dovecot auth and would
        # answer the next AUTH with "454 4.7.0 Temporary authentication failure" once each:
        # a reload makes Postfix replace them.
        self._postfix("reload")

    # ------------------------------------------------------------------ logs
    def _log_text(self) -> str:
        parts = []
        for p in sorted(self.log_dir.glob("*.log")):
            with contextlib.suppress(OSError):
                parts.append(p.read_text(errors="replace"))
        return "\n".join(parts)

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of every server log, for assertion messages."""
        out = []
        for p in sorted(self.log_dir.glob("*.log")):
            with contextlib.suppress(OSError):
                tail = p.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {p} (last {len(tail)} lines)\n" + "\n".join(tail))
        return "\n".join(out) or f"(no logs in {self.log_dir})"

    # ------------------------------------------------------------------ clients
    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL client context trusting only the lab CA."""
        return ssl.create_default_context(cafile=str(self.ca_pem_path))

    def imap_client(self, email_address: str, password: str | None = None, *,
                    starttls: bool = False, timeout: float = 10) -> Any:
        """A logged-in ``imapclient.IMAPClient``: IMAPS by default, or STARTTLS on the plain
        port with ``starttls=True``; the certificate is verified against the lab CA."""
        import imapclient

        pw = self.users[email_address] if password is None else password
        ctx = self.client_ssl_context()
        if starttls:
            client = imapclient.IMAPClient(self.host, port=self.imap_port, ssl=False,
                                           timeout=timeout)
            client.starttls(ssl_context=ctx)
        else:
            client = imapclient.IMAPClient(self.host, port=self.imaps_port, ssl=True,
                                           ssl_context=ctx, timeout=timeout)
        client.login(email_address, pw)
        return client

    def smtp_client(self, email_address: str | None = None, password: str | None = None, *,
                    implicit_tls: bool = False, starttls: bool = True,
                    timeout: float = 10) -> smtplib.SMTP:
        """An ``smtplib`` client connected to Postfix submission (``implicit_tls=True``: the
        smtps port), STARTTLS done unless ``starttls=False``, logged in when an address is
        given."""
        ctx = self.client_ssl_context()
        client: smtplib.SMTP
        if implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.smtps_port, timeout=timeout, context=ctx)
        else:
            client = smtplib.SMTP(self.host, self.submission_port, timeout=timeout)
            if starttls:
                client.starttls(context=ctx)
        if email_address is not None:
            client.login(email_address,
                         self.users[email_address] if password is None else password)
        return client

    def inject(self, message: EmailMessage | bytes, *, mail_from: str,
               rcpt_to: list[str]) -> None:
        """Hand a message to Postfix through the unauthenticated relay port (as if it came
        from the internet) for delivery into the lab mailboxes."""
        data = (message.as_bytes(policy=email.policy.SMTP)
                if isinstance(message, Message) else message)
        with smtplib.SMTP(self.host, self.relay_port, timeout=10) as client:
            client.sendmail(mail_from, rcpt_to, data)

    # ------------------------------------------------------------------ Postfix queue
    def queue(self) -> list[dict[str, Any]]:
        """The messages in Postfix's queue (``postqueue -j``: queue_name, queue_id, sender,
        recipients with delay_reason, ...)."""
        import json

        postqueue = which("postqueue") or "/usr/sbin/postqueue"
        proc = self._run([postqueue, "-c", str(self.postfix_etc), "-j"])
        return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]

    def flush_queue(self) -> None:
        """Ask Postfix to retry deferred mail now (``postqueue -f``)."""
        postqueue = which("postqueue") or "/usr/sbin/postqueue"
        self._run([postqueue, "-c", str(self.postfix_etc), "-f"])

    # ------------------------------------------------------------------ mailbox reading
    def message_files(self, email_address: str, mailbox: str = "INBOX") -> list[Path]:
        """The message files in a mailbox (new/ and cur/), oldest first."""
        base = self.maildir_path(email_address, mailbox)
        files: list[Path] = []
        for sub in ("new", "cur"):
            d = base / sub
            if d.is_dir():
                files.extend(p for p in d.iterdir() if p.is_file())
        return sorted(files, key=lambda p: p.name)

    def messages(self, email_address: str, mailbox: str = "INBOX") -> list[EmailMessage]:
        """Every message in a mailbox, parsed (``email.policy.default``), oldest first."""
        out = []
        for path in self.message_files(email_address, mailbox):
            with contextlib.suppress(FileNotFoundError):  # Dovecot may move new/ -> cur/
                out.append(_parse(path.read_bytes()))
        return out

    def wait_for_message(self, email_address: str,
                         predicate: Callable[[EmailMessage], bool] | None = None, *,
                         subject: str | None = None, headers: Mapping[str, str] | None = None,
                         mailbox: str = "INBOX", timeout: float = 15) -> EmailMessage:
        """Wait until a message matching ALL the given conditions is in the mailbox; return it.

        ``predicate(msg)`` is any test on the parsed message; ``subject`` and each
        ``headers`` value must be contained (case-insensitively) in that header. No condition
        matches any message. Raises AssertionError after ``timeout`` seconds with what the
        mailbox holds and the server logs.
        """

        def matches(msg: EmailMessage) -> bool:
            wanted = dict(headers or {})
            if subject is not None:
                wanted["Subject"] = subject
            for name, value in wanted.items():
                have = msg.get(name)
                if have is None or value.lower() not in str(have).lower():
                    return False
            return predicate(msg) if predicate else True

        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages(email_address, mailbox)
            for msg in msgs:
                if matches(msg):
                    return msg
            if time.monotonic() >= deadline:
                seen = [str(m.get("Subject")) for m in msgs]
                raise AssertionError(
                    f"no matching message for {email_address} in {mailbox} after {timeout}s "
                    f"(subject={subject!r}, headers={headers!r}); mailbox has subjects {seen}\n"
                    f"{self.log_tail()}")
            time.sleep(0.05)

    def iter_log(self, name: str = "postfix") -> Iterator[str]:
        """Lines of ``logs/<name>.log`` (``postfix`` or ``dovecot``)."""
        path = self.log_dir / f"{name}.log"
        if path.exists():
            yield from path.read_text(errors="replace").splitlines()


# ---------------------------------------------------------------------- process helpers
LAB_PREFIX = "mailport-lab-"
OWNER_FILE = "owner"  # "<pid> <process start time>" of the test process that runs the lab
KEPT_FILE = "kept"    # the lab was stopped and its dir kept on purpose (MAILPORT_LAB_KEEP)


def _owner_stamp(pid: int) -> str:
    return f"{pid} {_started(pid)}"


def _started(pid: int) -> str:
    """When the process started, in clock ticks since boot (``/proc/<pid>/stat`` field 22): not
    wall-clock time, which psutil's ``create_time`` derives from the boot time — that moved when
    this VM's clock was stepped, and a live test run's lab was reaped as stale mid-suite."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return f"{psutil.Process(pid).create_time():.0f}"


def _pidfile_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _tree(pid: int | None) -> list[psutil.Process]:
    if pid is None:
        return []
    try:
        master = psutil.Process(pid)
        return [master, *master.children(recursive=True)]
    except psutil.Error:
        return []


def _stop_servers_at(root: Path) -> None:
    """Stop the servers of the lab in ``root``: Postfix first (its smtpd processes hold
    connections to Dovecot auth), then Dovecot's whole process tree at once (its master alone
    waits ~1 s for children); leftovers of both trees are killed. Zombies count as gone (PID 1
    here reaps them late)."""
    dovecot_procs = _tree(_pidfile_pid(root / "dovecot" / "run" / "master.pid"))
    postfix_procs = _tree(_pidfile_pid(root / "postfix" / "queue" / "pid" / "master.pid"))
    if postfix_procs:
        postfix = which("postfix") or "/usr/sbin/postfix"
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([postfix, "-c", str(root / "postfix" / "etc"), "stop"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=15, check=False)
        _wait_gone(postfix_procs, 2)
    for p in dovecot_procs:
        with contextlib.suppress(psutil.Error):
            p.send_signal(signal.SIGTERM)
    alive = _wait_gone(dovecot_procs + postfix_procs, 3)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    _wait_gone(alive, 2)


def _owner_alive(stamp: str) -> bool:
    try:
        pid_text, started = stamp.split()
        proc = psutil.Process(int(pid_text))
        return _started(proc.pid) == started and proc.status() != psutil.STATUS_ZOMBIE
    except (ValueError, psutil.Error):
        return False


def reap_stale_labs(base: Path | None = None) -> list[Path]:
    """Stop the servers of labs whose test process died without tearing them down (killed by
    a timeout, SIGKILL, ...) and delete their dirs; a lab kept on purpose keeps its dir.
    Labs of live test processes (other runs going on at the same time) are not touched.
    Returns the lab dirs it stopped."""
    reaped = []
    for root in Path(base or tempfile.gettempdir()).glob(LAB_PREFIX + "*"):
        try:
            stamp = (root / OWNER_FILE).read_text()
        except OSError:
            continue  # not a lab dir, or a lab already stopped and kept
        if _owner_alive(stamp):
            continue
        _stop_servers_at(root)
        reaped.append(root)
        if (root / KEPT_FILE).exists():
            (root / OWNER_FILE).unlink(missing_ok=True)
        else:
            shutil.rmtree(root, ignore_errors=True)
    return reaped


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until every process has exited (or is a zombie); return those still alive."""
    deadline = time.monotonic() + timeout
    alive = list(procs)
    while alive:
        still = []
        for p in alive:
            with contextlib.suppress(psutil.Error):
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    still.append(p)
        alive = still
        if not alive or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    return alive


def _parse(data: bytes) -> EmailMessage:
    msg = BytesParser(policy=email.policy.default).parsebytes(data)
    assert isinstance(msg, EmailMessage)
    return msg
