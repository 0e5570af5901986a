"""OAuthMailLab: the mail lab (Dovecot + Postfix) with OAuth 2.0 logins, plus the local
authorization server that issues the tokens (:mod:`lab.oauth_server`).

Same layout and mail flow as :class:`lab.MailLab`; the differences:

* Dovecot offers ``AUTH=XOAUTH2 AUTH=OAUTHBEARER`` (IMAP) and checks each bearer token with its
  ``oauth2`` passdb against the authorization server's RFC 7662 introspection endpoint;
  passwords (PLAIN/LOGIN) still work through the passwd-file passdb.
* Postfix submission authenticates through Dovecot SASL, so it offers XOAUTH2 as well: a token
  the authorization server expired or revoked is refused by real SMTP and IMAP servers.

Its own instance (ports, temp dir) beside the password lab, so token-failure tests never touch
the password lab's state.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from .mail import MailLab, _render
from .oauth_server import LabOAuthServer
from .tls import LabCA


class OAuthMailLab(MailLab):
    """A :class:`MailLab` whose Dovecot accepts the tokens of ``oauth`` (started by the caller)."""

    def __init__(self, ca: LabCA, *, oauth: LabOAuthServer,
                 mechanisms: tuple[str, ...] = ("xoauth2", "oauthbearer"), **kwargs: object) -> None:
        """``mechanisms``: the bearer-token SASL mechanisms Dovecot (and so Postfix) offers."""
        super().__init__(ca, **kwargs)  # type: ignore[arg-type]
        self.oauth = oauth
        self.mechanisms = mechanisms

    def _write_configs(self) -> None:
        super()._write_configs()
        values = {name: getattr(self, name) for name in (
            "imap_port", "imaps_port", "lmtp_port", "auth_port", "submission_port", "smtps_port",
            "relay_port")}
        # The password lab's config already names this run's instance; keep that name.
        instance = next(line.split("=", 1)[1].strip() for line in self.dovecot_conf.read_text().splitlines()
                        if line.startswith("instance_name"))
        values.update(root=str(self.root), user=self.run_user, instance_name=instance,
                      introspection_url=self.oauth.introspection_url,
                      oauth_mechanisms=" ".join(self.mechanisms))
        self.dovecot_conf.write_text(_render("dovecot-oauth.conf.tmpl", values))
        ext = self.root / "dovecot" / "dovecot-oauth2.conf.ext"
        ext.write_text(_render("dovecot-oauth2.conf.ext.tmpl", values))
        # It holds the introspection client's secret: readable by the Dovecot user only.
        os.chown(ext, self._pw.pw_uid, self._pw.pw_gid)
        os.chmod(ext, 0o600)
        os.chmod(self.dovecot_conf, 0o644)


LAB_CLIENT_ID, LAB_CLIENT_SECRET = "mailport-lab", "lab-client-secret"
LAB_SCOPE = ("https://mail.google.com/ https://outlook.office.com/SMTP.Send "
             "https://outlook.office.com/IMAP.AccessAsUser.All offline_access openid email "
             # the provider-API scope profiles (core.transports)
             "https://www.googleapis.com/auth/gmail.send https://www.googleapis.com/auth/gmail.readonly "
             "https://www.googleapis.com/auth/gmail.modify "
             "https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Mail.Read "
             "https://graph.microsoft.com/Mail.ReadWrite")


@contextlib.contextmanager
def running_oauth_lab(ca: LabCA, *, mechanisms: tuple[str, ...] = ("xoauth2", "oauthbearer")
                      ) -> Iterator[OAuthMailLab]:
    """A fresh authorization server (users ``user@`` / ``user2@example.test``, client
    ``LAB_CLIENT_ID``) and an OAuth mail lab checking tokens against it; both stopped at the end.
    ``lab.client_id`` / ``lab.client_secret`` name the client."""
    from .oauth_server import LabClient, default_users

    server = LabOAuthServer(users=default_users(),
                            clients=[LabClient(LAB_CLIENT_ID, LAB_CLIENT_SECRET, (), LAB_SCOPE)]).start()
    lab = OAuthMailLab(ca, oauth=server, mechanisms=mechanisms)
    lab.client_id, lab.client_secret = LAB_CLIENT_ID, LAB_CLIENT_SECRET  # type: ignore[attr-defined]
    try:
        lab.start()
    except Exception:
        lab.keep = True
        lab.stop()
        server.stop()
        raise
    try:
        yield lab
    finally:
        lab.stop()
        server.stop()
