"""A local Gmail API v1 for the tests: Google's request and response shapes over real stored mail.

It serves the methods mailport uses, at Google's paths (``/gmail/v1/users/{userId}/…``), with the
shapes of Google's discovery document for gmail v1 (``lab.google_discovery`` checks every
exchange against it):

``users.getProfile``, ``users.messages.list`` (``labelIds``, ``q`` with ``after:``, paging),
``users.messages.get`` (``format=metadata|minimal|raw``, ``metadataHeaders``),
``users.history.list`` (``messageAdded`` records, paging, ``404`` for a ``startHistoryId`` older
than the kept history), ``users.messages.send`` as a JSON ``raw`` body, and as a media upload at
``/upload/gmail/v1/users/{userId}/messages/send`` (``uploadType=media|multipart|resumable``;
resumable sessions with ``PUT`` chunks and ``308`` until complete), 35 MB at most.

Every request's bearer token is checked at the lab authorization server's RFC 7662
introspection endpoint, and the granted scopes are checked per method as Google does: a token
without any of the method's scopes gets ``403`` ``insufficientPermissions``; an inactive token
gets ``401`` ``authError``. Error bodies are Google's: ``{"error": {"code", "message", "errors":
[{"message", "domain", "reason"}], "status"}}``.

The mailbox is the lab Dovecot: a sent message is delivered by LMTP to each recipient who is a
lab user (others are kept in :attr:`outbound`, "the internet") and filed in the sender's
``Sent`` folder, as Gmail files sent mail; the inbox view (list, get, history) reads the user's
Dovecot ``INBOX`` over IMAP. Message ids are derived from the folder and the IMAP UID; history
ids are handed out as the lab first sees each message.

Test controls: :meth:`fail_next` (status, reason, ``Retry-After``), :meth:`expire_history`,
``exchanges`` (every request and response, without tokens).
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import json
import re
import secrets
import smtplib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from .oauth_server import LabOAuthServer
from .ports import LOOPBACK

__all__ = ["Exchange", "LabGmailApi"]

MAX_UPLOAD = 36_700_160  # discovery document: mediaUpload.maxSize of users.messages.send
SEND_SCOPES = frozenset({
    "https://mail.google.com/", "https://www.googleapis.com/auth/gmail.addons.current.action.compose",
    "https://www.googleapis.com/auth/gmail.compose", "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.send",
})
READ_SCOPES = frozenset({
    "https://mail.google.com/", "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/gmail.metadata",
})
PROFILE_SCOPES = READ_SCOPES | {"https://www.googleapis.com/auth/gmail.compose"}
# users.messages.trash: modify or full access (gmail.readonly may only look).
MODIFY_SCOPES = frozenset({"https://mail.google.com/", "https://www.googleapis.com/auth/gmail.modify"})
_FOLDERS = {"INBOX": "1", "SENT": "2"}
_DOVECOT_FOLDER = {"INBOX": "INBOX", "SENT": "Sent"}


@dataclass
class Exchange:
    """One request and its response (for the discovery-document check)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    content_type: str
    body: Any  # parsed JSON request body, or None
    status: int
    response: Any  # parsed JSON response body, or None
    method_id: str | None = None


@dataclass
class _Stored:
    uid: int
    folder: str
    history_id: int
    internal_date: datetime
    size: int
    headers: bytes


@dataclass
class _Mailbox:
    email: str
    password: str
    client: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: dict[str, _Stored] = field(default_factory=dict)  # gmail id -> stored
    last_uid: dict[str, int] = field(default_factory=dict)


class GoogleError(Exception):
    def __init__(self, status: int, reason: str, message: str, *, google_status: str,
                 retry_after: str | None = None, domain: str = "global") -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message
        self.google_status, self.retry_after, self.domain = google_status, retry_after, domain

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.status, "message": self.message,
                          "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}],
                          "status": self.google_status}}


def _unauthenticated() -> GoogleError:
    return GoogleError(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access "
                       "token, login cookie or other valid authentication credential.", google_status="UNAUTHENTICATED")


def _insufficient() -> GoogleError:
    return GoogleError(403, "insufficientPermissions", "Request had insufficient authentication scopes.",
                       google_status="PERMISSION_DENIED")


def _not_found() -> GoogleError:
    return GoogleError(404, "notFound", "Requested entity was not found.", google_status="NOT_FOUND")


def _bad_request(message: str) -> GoogleError:
    return GoogleError(400, "invalidArgument", message, google_status="INVALID_ARGUMENT")


class LabGmailApi:
    """The server; :meth:`start` serves it on a free loopback port.

    ``mail_lab``: the running (OAuth) mail lab whose Dovecot holds the mailboxes;
    ``oauth``: the authorization server whose tokens it accepts.
    """

    def __init__(self, *, mail_lab: Any, oauth: LabOAuthServer) -> None:
        self.mail_lab = mail_lab
        self.oauth = oauth
        self.exchanges: list[Exchange] = []
        self.outbound: list[tuple[str, list[str], bytes]] = []
        """``(from, recipients, raw)`` of sent messages addressed outside the lab."""
        self.sent: list[tuple[str, bytes]] = []
        """``(user, raw)`` of every message ``users.messages.send`` accepted."""
        self.trashed: list[tuple[str, str]] = []
        """``(user, message id)`` of every ``users.messages.trash``."""
        self._faults: list[tuple[frozenset[str] | None, GoogleError]] = []
        self._mailboxes: dict[str, _Mailbox] = {}
        self._history_id = 1000
        self._oldest_history = 0
        self._uploads: dict[str, tuple[str, int, bytearray]] = {}
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self.port = 0

    # ---- lifecycle
    def start(self) -> Self:
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, name="lab-gmail", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        for box in self._mailboxes.values():
            if box.client is not None:
                with contextlib.suppress(Exception):  # the lab is going away
                    box.client.logout()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # ---- test controls
    def fail_next(self, status: int, reason: str, message: str = "", *, retry_after: str | None = None,
                  methods: Iterable[str] | None = None, count: int = 1) -> None:
        """Answer the next ``count`` calls of ``methods`` (discovery ids such as
        ``gmail.users.messages.send``; ``None``: any) with this Google error."""
        google_status = {400: "FAILED_PRECONDITION", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED",
                         500: "INTERNAL", 503: "UNAVAILABLE"}.get(status, "UNKNOWN")
        error = GoogleError(status, reason, message or reason, google_status=google_status, retry_after=retry_after)
        with self._lock:
            self._faults.extend((frozenset(methods) if methods else None, error) for _ in range(count))

    def expire_history(self) -> None:
        """Forget the history so far: a ``startHistoryId`` from before now answers 404."""
        with self._lock:
            self._oldest_history = self._history_id + 1

    def requests(self, method_id: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.method_id == method_id]

    # ---- the mailbox (Dovecot over IMAP)
    def _mailbox(self, user: str) -> _Mailbox:
        with self._lock:
            box = self._mailboxes.get(user)
            if box is None:
                if user not in self.mail_lab.users:
                    raise GoogleError(400, "failedPrecondition", "Mail service not enabled",
                                      google_status="FAILED_PRECONDITION")
                box = self._mailboxes[user] = _Mailbox(email=user, password=self.mail_lab.users[user])
            return box

    def _imap(self, box: _Mailbox) -> Any:
        if box.client is not None:
            try:
                box.client.noop()
                return box.client
            except Exception:  # noqa: BLE001 - reconnect below
                box.client = None
        box.client = self.mail_lab.imap_client(box.email, box.password, timeout=30)
        folders = {name for _flags, _sep, name in box.client.list_folders()}
        if "Sent" not in folders:
            box.client.create_folder("Sent")
        return box.client

    def _scan(self, box: _Mailbox) -> None:
        """Give every message that arrived in INBOX or Sent since the last look a history id."""
        client = self._imap(box)
        for label, folder in _DOVECOT_FOLDER.items():
            client.select_folder(folder, readonly=True)
            last = box.last_uid.get(label, 0)
            uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
            if not uids:
                continue
            for start in range(0, len(uids), 500):
                chunk = uids[start:start + 500]
                data = client.fetch(chunk, ["INTERNALDATE", "RFC822.SIZE", "BODY.PEEK[HEADER]"])
                for uid in chunk:
                    item = data.get(uid)
                    if item is None:
                        continue
                    with self._lock:
                        self._history_id += 1 + secrets.randbelow(3)  # increasing, with gaps
                        history = self._history_id
                    when = item[b"INTERNALDATE"]
                    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
                    box.messages[f"{_FOLDERS[label]}{uid:015x}"] = _Stored(
                        uid=uid, folder=label, history_id=history, internal_date=when,
                        size=int(item[b"RFC822.SIZE"]), headers=bytes(item[b"BODY[HEADER]"]))
            box.last_uid[label] = uids[-1]

    def _raw(self, box: _Mailbox, stored: _Stored) -> bytes:
        client = self._imap(box)
        client.select_folder(_DOVECOT_FOLDER[stored.folder], readonly=True)
        data = client.fetch([stored.uid], ["BODY.PEEK[]"]).get(stored.uid)
        if data is None:
            raise _not_found()
        return bytes(data[b"BODY[]"])

    def _deliver(self, user: str, raw: bytes) -> dict[str, Any]:
        if len(raw) > MAX_UPLOAD:
            raise GoogleError(413, "uploadTooLarge", "Request Entity Too Large", google_status="OUT_OF_RANGE")
        headers = BytesHeaderParser().parsebytes(raw)
        recipients = [addr for _name, addr in email.utils.getaddresses(
            [str(v) for k in ("To", "Cc", "Bcc") for v in (headers.get_all(k) or [])]) if addr]
        if not recipients:
            raise _bad_request("Recipient address required")
        # Gmail never passes Bcc on to the recipients.
        delivered = _strip_bcc(raw)
        local = [r for r in recipients if r.lower() in {u.lower() for u in self.mail_lab.users}]
        remote = [r for r in recipients if r not in local]
        if local:
            with smtplib.LMTP(self.mail_lab.host, self.mail_lab.lmtp_port, timeout=30) as lmtp:
                lmtp.sendmail(user, local, delivered)
        if remote:
            self.outbound.append((user, remote, delivered))
        box = self._mailbox(user)
        with box.lock:
            client = self._imap(box)
            client.append("Sent", delivered, flags=("\\Seen",))
            self._scan(box)
            sent = max((s for s in box.messages.values() if s.folder == "SENT"), key=lambda s: s.uid)
        self.sent.append((user, raw))
        gid = f"{_FOLDERS['SENT']}{sent.uid:015x}"
        return {"id": gid, "threadId": gid, "labelIds": ["SENT"]}

    # ---- the methods
    def profile(self, user: str) -> dict[str, Any]:
        box = self._mailbox(user)
        with box.lock:
            self._scan(box)
            total = sum(1 for s in box.messages.values() if s.folder == "INBOX")
        return {"emailAddress": user, "messagesTotal": total, "threadsTotal": total,
                "historyId": str(self._history_id)}

    def list_messages(self, user: str, query: list[tuple[str, str]]) -> dict[str, Any]:
        params = dict(query)
        labels = [v for k, v in query if k == "labelIds"] or ["INBOX"]
        size = _int(params.get("maxResults", "100"), "maxResults", maximum=500)
        offset = _page(params.get("pageToken"))
        after = _after(params.get("q", ""))
        box = self._mailbox(user)
        with box.lock:
            self._scan(box)
            wanted_id = _rfc822msgid(params.get("q", ""))
        found = sorted((gid for gid, s in box.messages.items()
                            if s.folder in labels and (after is None or s.internal_date >= after)
                            and (wanted_id is None or _message_id(s.headers) == wanted_id)),
                           key=lambda gid: (box.messages[gid].internal_date, box.messages[gid].uid), reverse=True)
        page = found[offset:offset + size]
        body: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if page:
            body["messages"] = [{"id": gid, "threadId": gid} for gid in page]
        if offset + size < len(found):
            body["nextPageToken"] = _token(offset + size)
        return body

    def trash(self, user: str, gid: str) -> dict[str, Any]:
        """``users.messages.trash``: the message leaves its label (in the lab: expunged from its
        Dovecot folder, the lab has no Trash); the Message resource with ``TRASH``."""
        box = self._mailbox(user)
        with box.lock:
            self._scan(box)
            stored = box.messages.pop(gid, None)
            if stored is None:
                raise _not_found()
            client = self._imap(box)
            client.select_folder(_DOVECOT_FOLDER[stored.folder])
            client.delete_messages([stored.uid])
            client.expunge()
        self.trashed.append((user, gid))
        return {"id": gid, "threadId": gid, "labelIds": ["TRASH"]}

    def get_message(self, user: str, gid: str, query: list[tuple[str, str]]) -> dict[str, Any]:
        fmt = dict(query).get("format", "full")
        if fmt not in ("minimal", "full", "raw", "metadata"):
            raise _bad_request(f"Invalid value at 'format' ({fmt})")
        wanted = {v.lower() for k, v in query if k == "metadataHeaders"}
        box = self._mailbox(user)
        with box.lock:
            self._scan(box)
            stored = box.messages.get(gid)
            if stored is None:
                raise _not_found()
            raw = self._raw(box, stored) if fmt in ("raw", "full") else None
        body: dict[str, Any] = {
            "id": gid, "threadId": gid, "labelIds": [stored.folder], "snippet": "",
            "historyId": str(stored.history_id),
            "internalDate": str(int(stored.internal_date.timestamp() * 1000)), "sizeEstimate": stored.size,
        }
        if fmt == "raw":
            assert raw is not None
            body["raw"] = base64.urlsafe_b64encode(raw).decode()
        elif fmt in ("metadata", "full"):
            parsed = BytesHeaderParser().parsebytes(stored.headers)
            headers = [{"name": k, "value": str(v)} for k, v in parsed.items()
                       if fmt == "full" or not wanted or k.lower() in wanted]
            body["payload"] = {"partId": "", "mimeType": parsed.get_content_type(), "filename": "",
                               "headers": headers}
        return body

    def history(self, user: str, query: list[tuple[str, str]]) -> dict[str, Any]:
        params = dict(query)
        if "startHistoryId" not in params:
            raise _bad_request("Missing required parameter: startHistoryId")
        start = _int(params["startHistoryId"], "startHistoryId")
        label = params.get("labelId")
        size = _int(params.get("maxResults", "100"), "maxResults", maximum=500)
        offset = _page(params.get("pageToken"))
        with self._lock:
            if start < self._oldest_history:
                raise _not_found()
        box = self._mailbox(user)
        with box.lock:
            self._scan(box)
            records = sorted(((s.history_id, gid, s) for gid, s in box.messages.items()
                              if s.history_id > start and (label is None or s.folder == label)),
                             key=lambda r: r[0])
        page = records[offset:offset + size]
        body: dict[str, Any] = {"historyId": str(self._history_id)}
        if page:
            body["history"] = [{
                "id": str(history_id), "messages": [{"id": gid, "threadId": gid}],
                "messagesAdded": [{"message": {"id": gid, "threadId": gid, "labelIds": [s.folder]}}],
            } for history_id, gid, s in page]
        if offset + size < len(records):
            body["nextPageToken"] = _token(offset + size)
        return body

    # ---- authorization
    def authorize(self, header: str | None, scopes: frozenset[str]) -> str:
        """The mailbox of the bearer token in ``header``, if it is active and has one of ``scopes``."""
        answer = self.oauth.introspect_bearer(header)
        if answer is None:
            raise _unauthenticated()
        if not scopes & set(str(answer.get("scope", "")).split()):
            raise _insufficient()
        return str(answer["username"])

    def fault_for(self, method_id: str) -> GoogleError | None:
        with self._lock:
            for i, (methods, error) in enumerate(self._faults):
                if methods is None or method_id in methods:
                    del self._faults[i]
                    return error
        return None


def _strip_bcc(raw: bytes) -> bytes:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    lines = re.split(rb"\r?\n(?![ \t])", head)
    return b"\r\n".join(line for line in lines if not line.lower().startswith(b"bcc:")) + sep + body


def _int(value: str, name: str, *, maximum: int | None = None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise _bad_request(f"Invalid value at '{name}' ({value})") from None
    if number < 0 or (maximum is not None and number > maximum):
        raise _bad_request(f"Invalid value at '{name}' ({value})")
    return number


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def _page(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        return int(text[1:])
    except ValueError:
        raise _bad_request("Invalid pageToken") from None


def _rfc822msgid(q: str) -> str | None:
    """The ``rfc822msgid:`` term of a Gmail search (a Message-ID without the angle brackets)."""
    found = re.search(r"\brfc822msgid:(\S+)", q)
    return found.group(1).strip("<>").lower() if found else None


def _message_id(headers: bytes) -> str:
    value = BytesHeaderParser().parsebytes(headers).get("Message-ID") or ""
    return str(value).strip().strip("<>").lower()


def _after(q: str) -> datetime | None:
    """The ``after:`` term of a Gmail search (epoch seconds or ``YYYY/MM/DD``)."""
    found = re.search(r"\bafter:(\S+)", q)
    if not found:
        return None
    value = found.group(1)
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    try:
        return datetime.strptime(value, "%Y/%m/%d").replace(tzinfo=UTC)
    except ValueError:
        raise _bad_request(f"Invalid search query: {q}") from None


_ROUTES: list[tuple[str, re.Pattern[str], str, frozenset[str]]] = [
    ("GET", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/profile"), "gmail.users.getProfile", PROFILE_SCOPES),
    ("GET", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/messages"), "gmail.users.messages.list", READ_SCOPES),
    ("GET", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/messages/(?P<id>[^/]+)"), "gmail.users.messages.get",
     READ_SCOPES),
    ("GET", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/history"), "gmail.users.history.list", READ_SCOPES),
    ("POST", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/messages/send"), "gmail.users.messages.send", SEND_SCOPES),
    ("POST", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/messages/(?P<id>[^/]+)/trash"),
     "gmail.users.messages.trash", MODIFY_SCOPES),
    ("POST", re.compile(r"/(?:resumable/)?upload/gmail/v1/users/(?P<user>[^/]+)/messages/send"),
     "gmail.users.messages.send", SEND_SCOPES),
    ("PUT", re.compile(r"/upload/sessions/(?P<session>[A-Za-z0-9_-]+)"), "gmail.users.messages.send", SEND_SCOPES),
]


def _handler_for(lab: LabGmailApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, exchange: Exchange, status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            exchange.status, exchange.response = status, body
            lab.exchanges.append(exchange)
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            split = urlsplit(self.path)
            query = parse_qsl(split.query, keep_blank_values=True)
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            body_json = None
            if content_type.startswith("application/json") and payload:
                try:
                    body_json = json.loads(payload)
                except ValueError:
                    body_json = None
            exchange = Exchange(method=self.command, path=split.path, query=query, content_type=content_type,
                                body=body_json, status=0, response=None)
            route = next(((mid, match, scopes) for method, pattern, mid, scopes in _ROUTES
                          if method == self.command and (match := pattern.fullmatch(split.path))), None)
            if route is None:
                return self._answer(exchange, 404, _not_found().body())
            method_id, match, scopes = route
            exchange.method_id = method_id
            try:
                user = lab.authorize(self.headers.get("Authorization"), scopes)
                wanted = match.groupdict().get("user")
                if wanted not in (None, "me", user):
                    raise GoogleError(403, "forbidden", "Delegation denied for " + user,
                                      google_status="PERMISSION_DENIED")
                fault = lab.fault_for(method_id)
                if fault is not None:
                    raise fault
                status, body, headers = self._dispatch(method_id, match, user, query, content_type, payload,
                                                       body_json)
            except GoogleError as exc:
                headers = [("Retry-After", exc.retry_after)] if exc.retry_after else []
                if exc.status == 401:
                    headers.append(("WWW-Authenticate", ('Bearer realm="https://accounts.google.com/", '
                                                        'error="invalid_token"')))
                return self._answer(exchange, exc.status, exc.body(), headers)
            return self._answer(exchange, status, body, headers)

        def _dispatch(self, method_id: str, match: re.Match[str], user: str, query: list[tuple[str, str]],
                      content_type: str, payload: bytes, body_json: Any
                      ) -> tuple[int, Any, list[tuple[str, str]]]:
            if method_id == "gmail.users.getProfile":
                return 200, lab.profile(user), []
            if method_id == "gmail.users.messages.list":
                return 200, lab.list_messages(user, query), []
            if method_id == "gmail.users.messages.get":
                return 200, lab.get_message(user, match.group("id"), query), []
            if method_id == "gmail.users.history.list":
                return 200, lab.history(user, query), []
            if method_id == "gmail.users.messages.trash":
                return 200, lab.trash(user, match.group("id")), []
            # users.messages.send
            path = urlsplit(self.path).path
            if "session" in match.groupdict():
                return self._resume(match.group("session"), user, payload)
            if not path.startswith(("/upload/", "/resumable/")):
                if not isinstance(body_json, dict) or not isinstance(body_json.get("raw"), str):
                    raise _bad_request("'raw' RFC822 payload message string or uploading message via /upload/* "
                                       "URL required")
                raw = base64.urlsafe_b64decode(body_json["raw"] + "=" * (-len(body_json["raw"]) % 4))
                return 200, lab._deliver(user, raw), []
            upload_type = dict(query).get("uploadType", "")
            if upload_type == "media":
                return 200, lab._deliver(user, payload), []
            if upload_type == "multipart":
                return 200, lab._deliver(user, _multipart_message(content_type, payload)), []
            if upload_type == "resumable":
                total = int(self.headers.get("X-Upload-Content-Length") or 0)
                if total > MAX_UPLOAD:
                    raise GoogleError(413, "uploadTooLarge", "Request Entity Too Large", google_status="OUT_OF_RANGE")
                session = secrets.token_urlsafe(12)
                lab._uploads[session] = (user, total, bytearray())
                return 200, None, [("Location", f"{lab.base_url}/upload/sessions/{session}?uploadType=resumable")]
            raise _bad_request(f"Invalid uploadType ({upload_type})")

        def _resume(self, session: str, user: str, payload: bytes) -> tuple[int, Any, list[tuple[str, str]]]:
            entry = lab._uploads.get(session)
            if entry is None or entry[0] != user:
                raise _not_found()
            _user, total, buffer = entry
            found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", self.headers.get("Content-Range", ""))
            if found is None or int(found.group(1)) != len(buffer):
                raise _bad_request("Invalid Content-Range")
            buffer.extend(payload)
            if len(buffer) < total:
                return 308, None, [("Range", f"bytes=0-{len(buffer) - 1}")]
            del lab._uploads[session]
            return 200, lab._deliver(user, bytes(buffer)), []

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_PUT(self) -> None:
            self._handle()

    return Handler


def _multipart_message(content_type: str, payload: bytes) -> bytes:
    """The ``message/rfc822`` part of a ``multipart/related`` upload (metadata JSON first)."""
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/related") or found is None:
        raise _bad_request("multipart/related with a boundary required")
    delimiter = b"--" + found.group(1).encode()
    parts = payload.split(delimiter)
    # parts: preamble, metadata, media, epilogue ("--\r\n")
    if len(parts) < 4:
        raise _bad_request("a metadata part and a media part are required")
    media = parts[2]
    head, sep, content = media.partition(b"\r\n\r\n")
    if not sep or b"message/" not in head.lower():
        raise _bad_request("the media part must be message/rfc822")
    return content[:-2] if content.endswith(b"\r\n") else content

