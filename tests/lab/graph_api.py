"""A local Microsoft Graph v1.0 mail server for the tests: the endpoints mailport uses, with
Microsoft's request and response shapes, in front of the lab's real Dovecot + Postfix.

Plays Exchange Online for one :class:`lab.MailLab` and one :class:`lab.oauth_server.LabOAuthServer`:

* every request's bearer token is checked with the authorization server's RFC 7662
  introspection endpoint; the *granted* scopes decide what the token may do, as Microsoft's
  delegated permissions do (``Mail.Send``: ``sendMail`` and ``messages/{id}/send``;
  ``Mail.ReadWrite``: drafts, attachments, upload sessions; ``Mail.Read``: the inbox). A scope is
  accepted bare (``Mail.Send``) or as ``https://graph.microsoft.com/Mail.Send``;
* a message that is sent is delivered through the lab Postfix (relay port, so an unknown
  recipient earns a real DSN) into the Dovecot mailboxes, and its Sent Items copy is APPENDed to
  the sender's ``Sent`` folder — by this server, as Exchange files sent mail itself;
* the inbox is served from the user's Dovecot INBOX (IMAP, the user's lab password), so delta
  sync is checked on real stored mail.

Endpoints (under ``base_url`` = ``http://127.0.0.1:PORT/v1.0``):

``POST /me/sendMail``
    ``Content-Type: text/plain``: the base64 MIME message (202, no body; the request body is
    limited to 4 MB, 413 above). ``application/json``: ``{"message": …, "saveToSentItems": …}``.
``POST /me/messages``
    a draft from base64 MIME (201 + message). ``Mail.ReadWrite``.
``POST /me/messages/{id}/attachments``
    a ``#microsoft.graph.fileAttachment`` (under 3 MB) (201 + attachment).
``POST /me/messages/{id}/attachments/createUploadSession``
    ``{"AttachmentItem": {...}}`` (201 + ``uploadSession``); then ``PUT uploadUrl`` with
    ``Content-Range: bytes a-b/total`` chunks of at most 4 MB, without ``Authorization`` (the URL
    carries its own token; Microsoft answers 401 when one is sent): 200 + ``nextExpectedRanges``
    (``["{next}"]``) per chunk, 201 + ``Location`` of the attachment after the last one.
``POST /me/messages/{id}/send``
    sends the draft (202), files it in Sent Items.
``GET /me/mailFolders/inbox/messages/delta``
    ``$select``, ``$filter=receivedDateTime ge …``, ``Prefer: odata.maxpagesize=N``; pages linked
    by ``@odata.nextLink`` (``$skiptoken``), the last one carries ``@odata.deltaLink``
    (``$deltatoken``). A state this server no longer knows answers 410 ``SyncStateNotFound``.
``GET /me/messages/{id}/$value``
    the message's MIME.

Errors are JSON ``{"error": {"code", "message", "innerError": {...}}}``: 401
``InvalidAuthenticationToken`` (with ``WWW-Authenticate``), 403 ``ErrorAccessDenied`` for a
missing permission, 404 ``ErrorItemNotFound`` / ``MailboxNotEnabledForRESTAPI``, 403
``ErrorSendAsDenied``, ``ErrorExceededMessageLimit``, 429/503 with ``Retry-After``.

Test controls: :meth:`fail_next` (any error, e.g. 429 with ``Retry-After: 2``),
:meth:`disable_mailbox` (``MailboxNotEnabledForRESTAPI``), :meth:`limit_messages`
(``ErrorExceededMessageLimit``), :meth:`expire_delta_tokens`; ``exchanges`` records every
request and response (without tokens) so a test can hold both to Microsoft's metadata.
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import hashlib
import hmac
import json
import re
import secrets
import smtplib
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
from imapclient import IMAPClient

from .mail import MailLab
from .oauth_server import LabOAuthServer
from .ports import LOOPBACK

MAX_REQUEST = 4 * 1024 * 1024
"""Graph refuses request bodies over 4 MB (so a MIME ``sendMail`` carries about 3 MB of mail)."""
MAX_CHUNK = 4 * 1024 * 1024
SMALL_ATTACHMENT = 3 * 1024 * 1024
"""Attachments from this size on go through an upload session (Microsoft: 3 MB to 150 MB)."""
MAX_ATTACHMENT = 150 * 1024 * 1024
MAX_MESSAGE = 35 * 1024 * 1024
"""Exchange Online's default message size limit."""
_GRAPH = "https://graph.microsoft.com/"
_DEFAULT_PAGE = 10
_MAX_PAGE = 1000
_FOLDER_ID = "AQMkADAwATM0MDAAMS1iNQBkZS1lZTM1LTAwAi0wMAoALgAAA-inbox"
_JUNK_ID = "AQMkADAwATM0MDAAMS1iNQBkZS1lZTM1LTAwAi0wMAoALgAAA-junk"
_SENT_ID = "AQMkADAwATM0MDAAMS1iNQBkZS1lZTM1LTAwAi0wMAoALgAAA-sentitems"
# Where the lab's messages live (Dovecot folder → Graph folder id): /me/messages covers all three.
_STORE = (("INBOX", _FOLDER_ID), ("Junk", _JUNK_ID), ("Sent", _SENT_ID))


@dataclass
class Exchange:
    """One request and its answer, as recorded (no tokens)."""

    operation: str
    method: str
    path: str
    request_type: str
    request_json: Any
    status: int
    response_json: Any
    response_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    status: int
    code: str
    message: str
    retry_after: int | None
    operations: frozenset[str] | None
    times: int


@dataclass
class _Draft:
    id: str
    owner: str
    mime: bytes
    created: str
    attachments: list[tuple[str, str, bytes, bool, str | None]] = field(default_factory=list)
    sent: bool = False


@dataclass
class _Upload:
    token: str
    draft_id: str
    owner: str
    name: str
    content_type: str
    size: int
    is_inline: bool
    content_id: str | None
    expires: float
    data: bytearray = field(default_factory=bytearray)


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, *, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.headers = status, code, message, list(headers)


def _now_iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _recipient(name: str, address: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name or address, "address": address}}


class LabGraphServer:
    """The Graph lab; :meth:`start` serves it on a free loopback port."""

    def __init__(self, *, oauth: LabOAuthServer, mail: MailLab) -> None:
        self.oauth = oauth
        self.mail = mail
        self.exchanges: list[Exchange] = []
        self.deliveries: list[tuple[str, list[str], str | None]] = []
        """``(sender, recipients, Message-ID)`` of every message handed to Postfix."""
        self.refused_recipients: list[str] = []
        self.deleted: list[tuple[str, str]] = []  # (user, message id) of DELETE /me/messages/{id}
        self.wire: list[bytes] = []  # the bytes of every message handed to Postfix
        self._faults: list[_Fault] = []
        self._disabled: set[str] = set()
        self._limited: set[str] = set()
        self._drafts: dict[str, _Draft] = {}
        self._uploads: dict[str, _Upload] = {}
        self._generation = 1
        self._secret = secrets.token_bytes(32)
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self.port = 0

    # ---- lifecycle
    def start(self) -> LabGraphServer:
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, name="lab-graph", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def base_url(self) -> str:
        """What ``MAILPORT_GRAPH_BASE_URL`` points at (Microsoft: ``https://graph.microsoft.com/v1.0``)."""
        return f"{self.root_url}/v1.0"

    # ---- test controls
    def fail_next(self, status: int, code: str, message: str = "", *, retry_after: int | None = None,
                  operations: Iterable[str] | None = None, times: int = 1) -> None:
        """Answer the next ``times`` requests (of ``operations``, e.g. ``{"sendMail"}``; all when
        None) with this error, after the token check."""
        with self._lock:
            self._faults.append(_Fault(status, code, message or code, retry_after,
                                       frozenset(operations) if operations else None, times))

    def disable_mailbox(self, email: str) -> None:
        """The user's mailbox answers 404 ``MailboxNotEnabledForRESTAPI`` (on-premises, inactive)."""
        self._disabled.add(email.lower())

    def limit_messages(self, email: str) -> None:
        """Sending from ``email`` answers ``ErrorExceededMessageLimit`` (the daily quota is used up)."""
        self._limited.add(email.lower())

    def expire_delta_tokens(self) -> None:
        """Forget every sync state: the next ``$deltatoken`` / ``$skiptoken`` answers 410."""
        with self._lock:
            self._generation += 1

    def operations(self, name: str | None = None) -> list[Exchange]:
        return [x for x in self.exchanges if name is None or x.operation == name]

    # ---- tokens
    def _sign(self, payload: dict[str, Any]) -> str:
        data = json.dumps(payload, separators=(",", ":")).encode()
        mac = hmac.new(self._secret, data, hashlib.sha256).digest()[:16]
        return f"{_b64url(data)}.{_b64url(mac)}"

    def _unsign(self, token: str) -> dict[str, Any] | None:
        try:
            data_part, mac_part = token.split(".", 1)
            data = _unb64url(data_part)
            if not hmac.compare_digest(_unb64url(mac_part), hmac.new(self._secret, data, hashlib.sha256).digest()[:16]):
                return None
            value = json.loads(data)
        except (ValueError, binascii.Error):
            return None
        return value if isinstance(value, dict) else None

    def _authenticate(self, authorization: str | None) -> tuple[str, set[str]]:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.",
                             headers=[("WWW-Authenticate", 'Bearer realm="", error="invalid_token"')])
        answer = self.oauth.introspect_bearer(authorization)
        if answer is None:
            raise GraphError(401, "InvalidAuthenticationToken",
                             "Lifetime validation failed, the token is expired.",
                             headers=[("WWW-Authenticate", ('Bearer realm="", error="invalid_token", '
                                                          'error_description="The access token has expired"'))])
        granted = {s.removeprefix(_GRAPH) for s in str(answer.get("scope", "")).split()}
        return str(answer["username"]).lower(), granted

    # ---- mailbox access (the "Exchange store": Dovecot)
    def _imap(self, user: str) -> IMAPClient:
        return self.mail.imap_client(user)

    def _deliver(self, owner: str, raw: bytes, *, save_to_sent: bool) -> None:
        msg = BytesParser(policy=email.policy.default).parsebytes(raw)
        sender = next((a for _, a in getaddresses([str(msg.get("From", ""))]) if a), "")
        if sender.lower() != owner:
            raise GraphError(403, "ErrorSendAsDenied",
                             "The user account which was used to submit this request does not have the right to"
                             " send mail on behalf of the specified sending account.")
        rcpts = [a for _, a in getaddresses([str(v) for k in ("To", "Cc", "Bcc") for v in msg.get_all(k, [])])
                 if a]
        if not rcpts:
            raise GraphError(400, "ErrorInvalidRecipients",
                             "At least one recipient is not valid., Recipient is missing.")
        if len(raw) > MAX_MESSAGE:
            raise GraphError(400, "ErrorMessageSizeExceeded", "The message exceeds the maximum supported size.")
        del msg["Bcc"]
        if msg.get("Date") is None:
            msg["Date"] = email.utils.formatdate(localtime=False)
        if msg.get("Message-ID") is None:
            msg["Message-ID"] = email.utils.make_msgid(domain=owner.partition("@")[2])
        wire = msg.as_bytes(policy=email.policy.SMTP)
        with smtplib.SMTP(LOOPBACK, self.mail.relay_port, timeout=30) as smtp:
            refused = smtp.sendmail(owner, rcpts, wire)
        self.refused_recipients.extend(refused)
        self.deliveries.append((owner, rcpts, msg.get("Message-ID")))
        self.wire.append(wire)
        if save_to_sent:
            with self._imap(owner) as imap:
                imap.append("Sent", wire, flags=[b"\\Seen"])

    # ---- operations
    def send_mail(self, user: str, scopes: set[str], content_type: str, body: bytes) -> tuple[int, Any]:
        _require(scopes, "Mail.Send")
        self._check_send_quota(user)
        if content_type.startswith("text/plain"):
            self._deliver(user, _mime_from_base64(body), save_to_sent=True)
            return 202, None
        if content_type.startswith("application/json"):
            params = _json(body)
            lowered = {k.lower(): v for k, v in params.items()}
            message = lowered.get("message")
            if not isinstance(message, dict):
                raise GraphError(400, "ErrorInvalidParameter", "Message is required.")
            save = lowered.get("savetosentitems", True)
            self._deliver(user, _mime_from_json(user, message), save_to_sent=bool(save))
            return 202, None
        raise GraphError(415, "UnsupportedMediaType", f"Unsupported content type {content_type!r}.")

    def create_draft(self, user: str, scopes: set[str], content_type: str, body: bytes) -> tuple[int, Any]:
        _require(scopes, "Mail.ReadWrite")
        if not content_type.startswith("text/plain"):
            raise GraphError(415, "UnsupportedMediaType", "This lab takes drafts in MIME format only.")
        mime = _mime_from_base64(body)
        draft = _Draft(id="AAMkAGDraft" + _b64url(uuid.uuid4().bytes), owner=user, mime=mime, created=_now_iso())
        with self._lock:
            self._drafts[draft.id] = draft
        return 201, self._message_json(draft.id, BytesParser(policy=compat32).parsebytes(mime),
                                       created=draft.created, is_draft=True, size=len(mime))

    def _draft(self, user: str, draft_id: str) -> _Draft:
        with self._lock:
            draft = self._drafts.get(draft_id)
        if draft is None or draft.owner != user or draft.sent:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return draft

    def add_attachment(self, user: str, scopes: set[str], draft_id: str, body: bytes) -> tuple[int, Any]:
        _require(scopes, "Mail.ReadWrite")
        draft = self._draft(user, draft_id)
        params = _json(body)
        if params.get("@odata.type") != "#microsoft.graph.fileAttachment":
            raise GraphError(400, "ErrorInvalidParameter", "Only file attachments are supported here.")
        try:
            content = base64.b64decode(str(params.get("contentBytes", "")), validate=True)
        except binascii.Error as exc:
            raise GraphError(400, "ErrorInvalidParameter", "contentBytes is not base64.") from exc
        if len(content) >= SMALL_ATTACHMENT:
            raise GraphError(413, "ErrorRequestEntityTooLarge",
                             "Attachments of 3 MB or more must be uploaded with an upload session.")
        name = str(params.get("name") or "attachment")
        ctype = str(params.get("contentType") or "application/octet-stream")
        inline, cid = bool(params.get("isInline", False)), params.get("contentId")
        draft.attachments.append((name, ctype, content, inline, cid))
        att_id = "AAMkAtt" + _b64url(uuid.uuid4().bytes)
        return 201, {"@odata.context": f"{self.base_url}/$metadata#users('{quote(user)}')/messages('{draft.id}')"
                                       "/attachments/$entity",
                     "@odata.type": "#microsoft.graph.fileAttachment", "id": att_id, "name": name,
                     "contentType": ctype, "size": len(content), "isInline": inline,
                     "lastModifiedDateTime": _now_iso(), "contentId": cid, "contentLocation": None}

    def create_upload_session(self, user: str, scopes: set[str], draft_id: str, body: bytes) -> tuple[int, Any]:
        _require(scopes, "Mail.ReadWrite")
        draft = self._draft(user, draft_id)
        params = _json(body)
        item = params.get("AttachmentItem")
        if not isinstance(item, dict):
            raise GraphError(400, "ErrorInvalidParameter", "AttachmentItem is required.")
        size, name = item.get("size"), item.get("name")
        if item.get("attachmentType", "file") != "file" or not isinstance(size, int) or not name:
            raise GraphError(400, "ErrorInvalidParameter", "attachmentType file, name and size are required.")
        if size > MAX_ATTACHMENT or size <= 0:
            raise GraphError(400, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize"
                             if size <= 0 else "ErrorMessageSizeExceeded", "Attachment size is out of range.")
        token = secrets.token_urlsafe(24)
        expires = time.time() + 15 * 60
        upload = _Upload(token=token, draft_id=draft.id, owner=user, name=str(name),
                         content_type=str(item.get("contentType") or "application/octet-stream"), size=size,
                         is_inline=bool(item.get("isInline", False)), content_id=item.get("contentId"),
                         expires=expires)
        with self._lock:
            self._uploads[token] = upload
        return 201, {"@odata.context": f"{self.base_url}/$metadata#microsoft.graph.uploadSession",
                     "uploadUrl": f"{self.root_url}/upload/{upload.draft_id}/{token}?authtoken={token}",
                     "expirationDateTime": _now_iso(expires), "nextExpectedRanges": ["0-"]}

    def upload_chunk(self, token: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, list[tuple[str, str]]]:
        if "authorization" in headers:
            raise GraphError(401, "InvalidAuthenticationToken",
                             "The upload URL carries its own token; do not send an Authorization header.")
        with self._lock:
            upload = self._uploads.get(token)
        if upload is None or upload.expires < time.time():
            raise GraphError(404, "ErrorItemNotFound", "The upload session was not found or has expired.")
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", headers.get("content-range", "").strip())
        if match is None:
            raise GraphError(400, "InvalidRequest", "Content-Range is missing or malformed.")
        start, end, total = (int(g) for g in match.groups())
        if total != upload.size or start != len(upload.data) or end < start or end - start + 1 != len(body):
            raise GraphError(416, "InvalidRange",
                             f"Expected the range starting at {len(upload.data)} of {upload.size} bytes.")
        if len(body) > MAX_CHUNK:
            raise GraphError(413, "ErrorRequestEntityTooLarge", "A chunk may hold at most 4 MB.")
        upload.data.extend(body)
        upload.expires = time.time() + 15 * 60
        if len(upload.data) < upload.size:
            return 200, {"@odata.context": f"{self.base_url}/$metadata#microsoft.graph.uploadSession",
                         "expirationDateTime": _now_iso(upload.expires),
                         "nextExpectedRanges": [str(len(upload.data))]}, []
        draft = self._draft(upload.owner, upload.draft_id)
        draft.attachments.append((upload.name, upload.content_type, bytes(upload.data), upload.is_inline,
                                  upload.content_id))
        with self._lock:
            self._uploads.pop(token, None)
        att_id = "AAMkAtt" + _b64url(uuid.uuid4().bytes)
        location = f"{self.base_url}/users('{quote(upload.owner)}')/messages('{draft.id}')/attachments('{att_id}')"
        return 201, None, [("Location", location)]

    def send_draft(self, user: str, scopes: set[str], draft_id: str) -> tuple[int, Any]:
        _require(scopes, "Mail.Send")
        self._check_send_quota(user)
        draft = self._draft(user, draft_id)
        with self._lock:
            uploading = [u for u in self._uploads.values() if u.draft_id == draft.id]
        if uploading:
            raise GraphError(400, "ErrorInvalidRequest", "An attachment upload of this message is not complete.")
        self._deliver(user, _with_attachments(draft.mime, draft.attachments), save_to_sent=True)
        draft.sent = True
        return 202, None

    def delete_draft(self, user: str, scopes: set[str], draft_id: str) -> tuple[int, Any]:
        _require(scopes, "Mail.ReadWrite")
        draft = self._draft(user, draft_id)
        with self._lock:
            self._drafts.pop(draft.id, None)
            for token in [t for t, u in self._uploads.items() if u.draft_id == draft.id]:
                self._uploads.pop(token)
        return 204, None

    def delete_message(self, user: str, scopes: set[str], message_id: str) -> tuple[int, Any]:
        """``DELETE /me/messages/{id}`` (``Mail.ReadWrite``): a draft, or a stored message (in
        the lab: expunged from its Dovecot folder, found by the id's UIDVALIDITY)."""
        _require(scopes, "Mail.ReadWrite")
        with self._lock:
            is_draft = message_id in self._drafts
        if is_draft:
            return self.delete_draft(user, scopes, message_id)
        not_found = GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        try:
            owner, validity, uid, *where = _unb64url(message_id[7:]).decode().split("|")
        except (ValueError, binascii.Error) as exc:
            raise not_found from exc
        folder = where[0] if where else "INBOX"
        if owner != user or not message_id.startswith("AAMkAGI") or folder not in dict(_STORE):
            raise not_found
        with self._imap(user) as imap:
            status = imap.select_folder(folder)
            if int(status[b"UIDVALIDITY"]) != int(validity) or not imap.search(["UID", uid]):
                raise not_found
            imap.delete_messages([int(uid)])
            imap.expunge()
        self.deleted.append((user, message_id))
        return 204, None

    def drafts(self, user: str) -> list[str]:
        """Ids of the unsent drafts of ``user`` (a failed large send must not leave one)."""
        with self._lock:
            return [d.id for d in self._drafts.values() if d.owner == user.lower() and not d.sent]

    def _check_send_quota(self, user: str) -> None:
        if user in self._limited:
            raise GraphError(403, "ErrorExceededMessageLimit",
                             "Cannot send mails. Sending limit exceeded for this mailbox.")

    # ---- inbox
    def delta(self, user: str, scopes: set[str], query: dict[str, str],
              prefer: str) -> tuple[int, Any, list[tuple[str, str]]]:
        if not scopes & {"Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic"}:
            raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        page_size = _DEFAULT_PAGE
        applied: list[tuple[str, str]] = []
        m = re.search(r"odata\.maxpagesize=(\d+)", prefer or "")
        if m:
            page_size = max(1, min(int(m.group(1)), _MAX_PAGE))
            applied.append(("Preference-Applied", f"odata.maxpagesize={page_size}"))
        with self._imap(user) as imap:
            status = imap.select_folder("INBOX", readonly=True)
            uidvalidity = int(status[b"UIDVALIDITY"])
            if "$skiptoken" in query or "$deltatoken" in query:
                state = self._unsign(query.get("$skiptoken") or query.get("$deltatoken") or "")
                if (state is None or state.get("u") != user or state.get("g") != self._generation
                        or state.get("v") != uidvalidity):
                    raise GraphError(410, "SyncStateNotFound",
                                     "The sync state generation is not found. Resync is required.")
                select = state.get("sel")
                page_size = int(state.get("n", page_size)) if not m else page_size
                if "$deltatoken" in query:
                    after, upto = int(state["upto"]), None
                    since = None
                else:
                    after, upto, since = int(state["after"]), int(state["upto"]), state.get("since")
            else:
                select = query.get("$select")
                after, upto = 0, None
                since = _parse_filter(query.get("$filter"))
            if upto is None:
                # A snapshot: what arrives while the pages are read comes in the next round.
                upto = int(status[b"UIDNEXT"]) - 1
            criteria: list[Any] = ["UID", f"{after + 1}:{max(upto, after + 1)}"]
            if since is not None:
                criteria += ["SINCE", datetime.fromisoformat(since).date()]
            uids = sorted(u for u in imap.search(criteria) if after < u <= upto)
            page, rest = uids[:page_size], uids[page_size:]
            items = self._summaries(imap, user, uidvalidity, page, select)
        body: dict[str, Any] = {"@odata.context": f"{self.base_url}/$metadata#Collection(message)", "value": items}
        link = f"{self.base_url}/me/mailFolders('inbox')/messages/delta"
        base_state = {"u": user, "g": self._generation, "v": uidvalidity, "sel": select, "n": page_size}
        if rest:
            token = self._sign({**base_state, "after": page[-1], "upto": upto, "since": since})
            body["@odata.nextLink"] = f"{link}?$skiptoken={token}"
        else:
            body["@odata.deltaLink"] = f"{link}?$deltatoken={self._sign({**base_state, 'upto': upto})}"
        return 200, body, applied

    def _summaries(self, imap: IMAPClient, user: str, uidvalidity: int, uids: list[int],
                   select: str | None) -> list[dict[str, Any]]:
        if not uids:
            return []
        fetched = imap.fetch(uids, ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "BODY.PEEK[HEADER]",
                                    "BODY.PEEK[TEXT]<0.4096>"])
        wanted = {s.strip() for s in select.split(",")} if select else None
        out = []
        for uid in uids:
            data = fetched.get(uid)
            if data is None:
                continue
            header = data[b"BODY[HEADER]"]
            partial = data.get(b"BODY[TEXT]<0>") or b""
            # compat32: the default policy's header objects cost ~10 ms per message here.
            msg = BytesParser(policy=compat32).parsebytes(header + partial)
            internal = data[b"INTERNALDATE"]
            received = internal.astimezone(UTC).timestamp() if internal.tzinfo else internal.timestamp()
            item = self._message_json(self._inbox_id(user, uidvalidity, uid), msg, created=_now_iso(received),
                                      is_draft=False, size=int(data[b"RFC822.SIZE"]),
                                      is_read=b"\\Seen" in data[b"FLAGS"])
            if wanted is not None:
                item = {k: v for k, v in item.items() if k.startswith("@") or k == "id" or k in wanted}
                if "internetMessageHeaders" in wanted:
                    item["internetMessageHeaders"] = [{"name": k, "value": " ".join(str(v).split())}
                                                      for k, v in msg.items()]
            out.append(item)
        return out

    def _message_json(self, message_id: str, msg: Message, *, created: str, is_draft: bool, size: int,
                      is_read: bool = True) -> dict[str, Any]:
        def one(name: str) -> dict[str, Any] | None:
            pairs = getaddresses([_decoded(msg.get(name, ""))])
            return _recipient(*pairs[0]) if pairs and pairs[0][1] else None

        def many(name: str) -> list[dict[str, Any]]:
            return [_recipient(n, a) for n, a in getaddresses([_decoded(v) for v in msg.get_all(name, [])]) if a]

        try:
            sent = parsedate_to_datetime(str(msg["Date"])).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") \
                if msg["Date"] else created
        except (TypeError, ValueError):
            sent = created
        ctype = msg.get_content_type()
        preview = _preview(msg)
        return {
            "@odata.etag": f'W/"{_b64url(hashlib.sha256(message_id.encode()).digest()[:12])}"',
            "id": message_id, "createdDateTime": created, "lastModifiedDateTime": created,
            "changeKey": _b64url(hashlib.sha256(message_id.encode()).digest()[:12]), "categories": [],
            "receivedDateTime": created, "sentDateTime": sent,
            "hasAttachments": ctype == "multipart/mixed",
            "internetMessageId": msg.get("Message-ID"), "subject": _decoded(msg.get("Subject", "")),
            "bodyPreview": preview[:255], "importance": "normal", "parentFolderId": _FOLDER_ID,
            "conversationId": _b64url(hashlib.sha256(str(msg.get("Subject", "")).encode()).digest()[:16]),
            "isDeliveryReceiptRequested": False, "isReadReceiptRequested": False, "isRead": is_read,
            "isDraft": is_draft, "webLink": f"https://outlook.office365.com/owa/?ItemID={quote(message_id)}",
            "inferenceClassification": "focused",
            "body": {"contentType": "text", "content": preview},
            "sender": one("Sender") or one("From"), "from": one("From"), "toRecipients": many("To"),
            "ccRecipients": many("Cc"), "bccRecipients": many("Bcc"), "replyTo": many("Reply-To"),
            "flag": {"flagStatus": "notFlagged"},
        }

    def list_messages(self, user: str, scopes: set[str], query: dict[str, str]) -> tuple[int, Any]:
        """``GET /me/messages?$filter=internetMessageId eq '<id>'``: every copy of a message, in
        Inbox, Junk Email or Sent Items (``parentFolderId`` says which)."""
        if not scopes & {"Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic"}:
            raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        m = re.fullmatch(r"\s*internetMessageId\s+eq\s+'(.+)'\s*", query.get("$filter", ""))
        if m is None:
            raise GraphError(400, "ErrorInvalidUrlQueryFilter", "This lab filters by internetMessageId only.")
        wanted = m.group(1).replace("''", "'")
        found: list[dict[str, Any]] = []
        with self._imap(user) as imap:
            for folder, folder_id in _STORE:
                if not imap.folder_exists(folder):
                    continue
                status = imap.select_folder(folder, readonly=True)
                for uid in imap.search(["HEADER", "Message-ID", wanted]):
                    found.append({"id": self._inbox_id(user, int(status[b"UIDVALIDITY"]), uid, folder),
                                  "internetMessageId": wanted, "parentFolderId": folder_id})
        return 200, {"@odata.context": f"{self.base_url}/$metadata#users('{quote(user)}')/messages",
                     "value": found}

    def mail_folder(self, user: str, scopes: set[str], name: str) -> tuple[int, Any]:
        if not scopes & {"Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic"}:
            raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        folder, folder_id, display = (("INBOX", _FOLDER_ID, "Inbox") if name == "inbox"
                                      else ("Junk", _JUNK_ID, "Junk Email"))
        with self._imap(user) as imap:
            status = imap.folder_status(folder, ["MESSAGES", "UNSEEN"])
        return 200, {"@odata.context": f"{self.base_url}/$metadata#users('{quote(user)}')/mailFolders/$entity",
                     "id": folder_id, "displayName": display, "parentFolderId": "msgfolderroot",
                     "childFolderCount": 0, "unreadItemCount": int(status[b"UNSEEN"]),
                     "totalItemCount": int(status[b"MESSAGES"]), "isHidden": False}

    def _inbox_id(self, user: str, uidvalidity: int, uid: int, folder: str = "INBOX") -> str:
        where = "" if folder == "INBOX" else f"|{folder}"  # INBOX ids as before (delta, $value)
        return "AAMkAGI" + _b64url(f"{user}|{uidvalidity}|{uid}{where}".encode())

    def message_value(self, user: str, scopes: set[str], message_id: str) -> bytes:
        if not scopes & {"Mail.Read", "Mail.ReadWrite"}:
            raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        not_found = GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if not message_id.startswith("AAMkAGI"):
            raise not_found
        try:
            owner, validity, uid = _unb64url(message_id[7:]).decode().split("|")
        except (ValueError, binascii.Error) as exc:
            raise not_found from exc
        if owner != user:
            raise not_found
        with self._imap(user) as imap:
            status = imap.select_folder("INBOX", readonly=True)
            if int(status[b"UIDVALIDITY"]) != int(validity):
                raise not_found
            data = imap.fetch([int(uid)], ["BODY.PEEK[]"]).get(int(uid))
        if data is None:
            raise not_found
        return bytes(data[b"BODY[]"])

    # ---- dispatch
    def fault_for(self, operation: str) -> GraphError | None:
        with self._lock:
            for fault in self._faults:
                if fault.operations is None or operation in fault.operations:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    headers = [("Retry-After", str(fault.retry_after))] if fault.retry_after is not None else []
                    return GraphError(fault.status, fault.code, fault.message, headers=headers)
        return None


def _require(scopes: set[str], scope: str) -> None:
    # Mail.ReadWrite does not include sending (Microsoft keeps Mail.Send separate).
    if scope not in scopes:
        raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError as exc:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from exc
    if not isinstance(value, dict):
        raise GraphError(400, "BadRequest", "The request body must be a JSON object.")
    return value


def _mime_from_base64(body: bytes) -> bytes:
    try:
        mime = base64.b64decode(body.replace(b"\r", b"").replace(b"\n", b""), validate=True)
    except binascii.Error as exc:
        raise GraphError(400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.") from exc
    if not mime.strip() or b":" not in mime.split(b"\n", 1)[0]:
        raise GraphError(400, "ErrorMimeContentInvalid", "The MIME content is not valid.")
    return mime


def _mime_from_json(user: str, message: dict[str, Any]) -> bytes:
    msg = EmailMessage()
    msg["From"] = user

    def header(key: str) -> str:
        return ", ".join(str(r.get("emailAddress", {}).get("address", "")) for r in message.get(key) or [])

    for key, name in (("toRecipients", "To"), ("ccRecipients", "Cc"), ("bccRecipients", "Bcc")):
        if message.get(key):
            msg[name] = header(key)
    msg["Subject"] = str(message.get("subject", ""))
    body = message.get("body") or {}
    msg.set_content(str(body.get("content", "")), subtype="html" if body.get("contentType") == "html" else "plain")
    return msg.as_bytes(policy=email.policy.SMTP)


def _with_attachments(mime: bytes, attachments: list[tuple[str, str, bytes, bool, str | None]]) -> bytes:
    if not attachments:
        return mime
    msg = BytesParser(policy=email.policy.default).parsebytes(mime)
    if msg.get_content_type() != "multipart/mixed":
        msg.make_mixed()
    for name, ctype, content, inline, cid in attachments:
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(content, maintype=maintype or "application", subtype=subtype or "octet-stream",
                           filename=name, disposition="inline" if inline else "attachment",
                           cid=f"<{cid}>" if cid else None)
    return msg.as_bytes(policy=email.policy.SMTP)


def _decoded(value: Any) -> str:
    """An RFC 2047 header value as text (compat32 leaves encoded words alone)."""
    try:
        return str(make_header(decode_header(str(value))))
    except (UnicodeError, LookupError, ValueError, TypeError):
        return str(value)


def _preview(msg: Message) -> str:
    """The first text part, decoded (possibly truncated: only its start was fetched)."""
    part = next((p for p in msg.walk() if p.get_content_type() in ("text/plain", "text/html")), None)
    text = ""
    if part is not None:
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            text = data.decode(part.get_content_charset() or "utf-8", "replace")
    return " ".join(text.split())


def _parse_filter(value: str | None) -> str | None:
    if not value:
        return None
    m = re.fullmatch(r"\s*receivedDateTime\s+ge\s+(\S+)\s*", value)
    if m is None:
        raise GraphError(400, "ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes.")
    return datetime.fromisoformat(m.group(1)).isoformat()


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"/v1\.0/me/sendMail"), "sendMail"),
    ("POST", re.compile(r"/v1\.0/me/messages"), "createMessage"),
    ("POST", re.compile(r"/v1\.0/me/messages/(?P<id>[^/]+)/attachments"), "addAttachment"),
    ("POST", re.compile(r"/v1\.0/me/messages/(?P<id>[^/]+)/attachments/createUploadSession"),
     "createUploadSession"),
    ("POST", re.compile(r"/v1\.0/me/messages/(?P<id>[^/]+)/send"), "send"),
    ("GET", re.compile(r"/v1\.0/me/mailFolders(?:/inbox|\('inbox'\))/messages/delta"), "delta"),
    ("GET", re.compile(r"/v1\.0/me/messages/(?P<id>[^/]+)/\$value"), "getMessageValue"),
    ("GET", re.compile(r"/v1\.0/me/messages"), "listMessages"),
    ("GET", re.compile(r"/v1\.0/me/mailFolders/(?P<id>inbox|junkemail)"), "getMailFolder"),
    ("DELETE", re.compile(r"/v1\.0/me/messages/(?P<id>[^/]+)"), "deleteMessage"),
]


def _handler_for(lab: LabGraphServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, operation: str, status: int, body: Any, headers: Iterable[tuple[str, str]] = (),
                   *, request_type: str = "", request_json: Any = None, raw: bytes | None = None) -> None:
            headers = list(headers)
            if raw is not None:
                data, ctype = raw, "text/plain"
            elif body is None:
                data, ctype = b"", ""
            else:
                data, ctype = json.dumps(body).encode(), "application/json; odata.metadata=minimal"
            lab.exchanges.append(Exchange(operation, self.command, urlsplit(self.path).path, request_type,
                                          request_json, status, body if raw is None else None,
                                          {k: v for k, v in headers}))
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("request-id", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, operation: str, exc: GraphError, **kwargs: Any) -> None:
            body = {"error": {"code": exc.code, "message": exc.message,
                              "innerError": {"date": _now_iso(), "request-id": str(uuid.uuid4()),
                                             "client-request-id": str(uuid.uuid4())}}}
            self._reply(operation, exc.status, body, exc.headers, **kwargs)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _dispatch(self) -> None:
            split = urlsplit(self.path)
            path = split.path.rstrip("/")
            body = self._body()
            headers = {k.lower(): v for k, v in self.headers.items()}
            ctype = headers.get("content-type", "")
            request_json: Any = None
            if ctype.startswith("application/json") and body:
                try:
                    request_json = json.loads(body)
                except ValueError:
                    request_json = None
            if self.command == "PUT" and path.startswith("/upload/"):
                token = path.rsplit("/", 1)[-1]
                try:
                    status, answer, extra = lab.upload_chunk(token, headers, body)
                except GraphError as exc:
                    return self._error("uploadChunk", exc, request_type=ctype)
                return self._reply("uploadChunk", status, answer, extra, request_type=ctype)
            operation, params = "", {}
            for method, pattern, name in _ROUTES:
                m = pattern.fullmatch(path)
                if m and method == self.command:
                    operation, params = name, m.groupdict()
                    break
            kwargs = {"request_type": ctype, "request_json": request_json}
            if not operation:
                return self._error("unknown", GraphError(400, "BadRequest",
                                                         f"Resource not found for the segment '{path}'."), **kwargs)
            try:
                user, scopes = lab._authenticate(headers.get("authorization"))
                if user in lab._disabled:
                    raise GraphError(404, "MailboxNotEnabledForRESTAPI",
                                     "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
                if len(body) > MAX_REQUEST:
                    raise GraphError(413, "ErrorRequestEntityTooLarge",
                                     "The request body exceeds the maximum size of 4 MB.")
                fault = lab.fault_for(operation)
                if fault is not None:
                    raise fault
                extra: list[tuple[str, str]] = []
                if operation == "sendMail":
                    status, answer = lab.send_mail(user, scopes, ctype, body)
                elif operation == "createMessage":
                    status, answer = lab.create_draft(user, scopes, ctype, body)
                elif operation == "addAttachment":
                    status, answer = lab.add_attachment(user, scopes, params["id"], body)
                elif operation == "createUploadSession":
                    status, answer = lab.create_upload_session(user, scopes, params["id"], body)
                elif operation == "send":
                    status, answer = lab.send_draft(user, scopes, params["id"])
                elif operation == "listMessages":
                    query = dict(parse_qsl(split.query, keep_blank_values=True))
                    status, answer = lab.list_messages(user, scopes, query)
                elif operation == "getMailFolder":
                    status, answer = lab.mail_folder(user, scopes, params["id"])
                elif operation == "deleteMessage":
                    status, answer = lab.delete_message(user, scopes, params["id"])
                elif operation == "delta":
                    query = dict(parse_qsl(split.query, keep_blank_values=True))
                    status, answer, extra = lab.delta(user, scopes, query, headers.get("prefer", ""))
                else:
                    raw = lab.message_value(user, scopes, params["id"])
                    return self._reply(operation, 200, None, raw=raw, **kwargs)
            except GraphError as exc:
                return self._error(operation, exc, **kwargs)
            except smtplib.SMTPException as exc:
                return self._error(operation, GraphError(503, "ServiceNotAvailable", f"Transport: {exc}",
                                                         headers=[("Retry-After", "5")]), **kwargs)
            return self._reply(operation, status, answer, extra, **kwargs)

        do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    return Handler





GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET = "mailport-graph-lab", "graph-lab-secret"
GRAPH_SCOPES = ("https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Mail.ReadWrite "
                "https://graph.microsoft.com/Mail.Read https://outlook.office.com/SMTP.Send "
                "https://outlook.office.com/IMAP.AccessAsUser.All offline_access openid email")


def register_graph_client(oauth: LabOAuthServer, *redirect_uris: str) -> tuple[str, str]:
    """Register (once) the lab's Microsoft app: the Graph mail scopes plus the XOAUTH2 ones."""
    from .oauth_server import LabClient

    if GRAPH_CLIENT_ID not in oauth.clients:
        oauth.add_client(LabClient(GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET, ("http://127.0.0.1/unused",),
                                   GRAPH_SCOPES))
    for uri in redirect_uris:
        oauth.allow_redirect(GRAPH_CLIENT_ID, uri)
    return GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET


def issue_tokens(oauth: LabOAuthServer, email_address: str, scope: str) -> dict[str, Any]:
    """The authorization-code flow with PKCE, done directly (no browser): the token answer."""
    from urllib.parse import urlencode

    client_id, secret = register_graph_client(oauth)
    redirect = "http://127.0.0.1/unused"
    verifier = secrets.token_urlsafe(48)
    challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
    url = f"{oauth.base_url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect, "scope": scope,
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"})
    location = oauth.authorize_as(url, email_address)
    code = dict(parse_qsl(urlsplit(location).query))["code"]
    answer = httpx.post(f"{oauth.base_url}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "code_verifier": verifier,
    }, auth=(client_id, secret), timeout=10)
    answer.raise_for_status()
    return dict(answer.json())


__all__ = ["GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET", "GRAPH_SCOPES", "MAX_CHUNK", "MAX_REQUEST", "SMALL_ATTACHMENT",
           "Exchange", "GraphError", "LabGraphServer", "issue_tokens", "register_graph_client"]
