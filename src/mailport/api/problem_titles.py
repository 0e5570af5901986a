"""Problem titles in the caller's language, as msgids of the ``mailport`` catalog.

An error's message is English and often names the thing that failed; a title (RFC 9457) says the
kind of problem, so it can be translated once per code. A code without its own title gets its
status's title. The English message stays in ``detail``.
"""

from __future__ import annotations

from typing import Final


def N_(message: str) -> str:
    return message


BY_CODE: Final = {
    "request.invalid": N_("The request is not valid"),
    "request.invalid_json": N_("The request body is not valid JSON"),
    "request.bad": N_("The request is not valid"),
    "request.invalid_address": N_("The email address is not valid"),
    "request.header_injection": N_("A header field contains line breaks or control characters"),
    "request.too_large": N_("The request is too large"),
    "request.too_many_large": N_("Too many large requests at once; try again shortly"),
    "request.server_busy": N_("The server is busy; try again shortly"),
    "request.message_too_large": N_("The message is too large"),
    "send.message_too_large": N_("The message is too large"),
    "request.unsupported_media_type": N_("This content type is not accepted"),
    "request.idempotency_mismatch": N_("This idempotency key was used for a different request"),
    "request.invalid_host": N_("The server name is not valid"),
    "request.invalid_port": N_("The port is not valid"),
    "request.invalid_security": N_("The encryption setting is not valid"),
    "request.invalid_username": N_("The user name is not valid"),
    "request.missing_username": N_("The user name is missing"),
    "request.invalid_pin": N_("The certificate pin is not valid"),
    "request.invalid_auth_kind": N_("This sign-in method is not valid"),
    "auth.missing_key": N_("An API key is required"),
    "auth.token_invalid": N_("The API key is not valid"),
    "auth.forbidden": N_("This API key may not do this"),
    "auth.rate_limited": N_("Too many failed sign-ins; try again later"),
    "not_found": N_("Not found"),
    "account.not_found": N_("This mailbox does not exist"),
    "tenant.not_found": N_("This tenant does not exist"),
    "domain.not_found": N_("This domain does not exist here"),
    "suppression.not_found": N_("This address is not on the suppression list"),
    "account.exists": N_("This mailbox is connected already"),
    "account.secret_required": N_("The server changed: send the password again"),
    "account.oauth_servers_fixed": N_("The servers of a mailbox signed in with its provider cannot be changed"),
    "domain.exists": N_("This domain is added already"),
    "domain.unknown": N_("This domain is not one of yours; add it first"),
    "domain.not_verified": N_("This domain has not passed its DNS check yet"),
    "send.no_account": N_("There is no mailbox or sending method to send from"),
    "send.sender_not_allowed": N_("This sender address may not be used"),
    "send.recipient_suppressed": N_("A recipient is on the suppression list"),
    "message.not_retryable": N_("This message cannot be sent again"),
    "message.not_cancellable": N_("This message can no longer be cancelled"),
    "discovery.not_found": N_("No settings were found for this address"),
    "webhook.url_invalid": N_("The webhook address is not valid"),
    "platform.display_name_spoofing": N_("The sender name may not look like an e-mail or web address"),
    "send.from_name_spoofing": N_("The sender name may not contain another e-mail address"),
    "platform.display_name_brand": N_("The sender name may not be that of a well-known company or authority"),
    "config.platform_missing": N_("This installation does not offer platform addresses"),
    "oauth.not_configured": N_("Sign-in with this provider is not set up on this installation"),
    "method_not_allowed": N_("This method is not allowed here"),
    "rate_limited": N_("Too many requests; try again later"),
    "internal": N_("Internal error; the operator's log has the details"),
}

BY_STATUS: Final = {
    400: N_("The request is not valid"),
    401: N_("An API key is required"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("This method is not allowed here"),
    408: N_("The request arrived too slowly"),
    409: N_("This conflicts with the current state"),
    413: N_("The request is too large"),
    415: N_("This content type is not accepted"),
    422: N_("The request is not valid"),
    429: N_("Too many requests; try again later"),
    500: N_("Internal error; the operator's log has the details"),
    501: N_("Not available on this installation"),
    502: N_("A mail server failed"),
    503: N_("The service is unavailable for a moment; try again"),
}


def title_msgid(code: str, status: int) -> str | None:
    """The msgid of the title for ``code`` (else for ``status``), ``None`` if there is none."""
    return BY_CODE.get(code) or BY_STATUS.get(status)
