"""The accept routes write their JSON themselves (``messages.message_out`` + pydantic's
serializer) instead of letting FastAPI validate the answer against its response model: the bytes
must be exactly the ones the model would have made, and the OpenAPI document must still name the
models."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic_core
import pytest
from pydantic import TypeAdapter

from dbfixtures import make_runtime
from mailport.api.app import create_app
from mailport.api.routers.messages import BatchOut, MessageOut, message_out
from mailport.services.send import MessageView

NOW = datetime(2026, 12, 6, 18, 30, 5, 123456, tzinfo=UTC)
TRICKY = 'Factuur “2026-0042” — € 12,50 \U0001f9fe </script> \\ "quoted" \u2028 \x01 tab\t'


def _view(**changes: Any) -> MessageView:
    recipients = [
        {"address": "klant@example.org", "kind": "to", "status": "pending", "smtp_code": None,
         "enhanced_code": None, "text": None, "diagnosis": None},
        {"address": "boekhouding@example.org", "kind": "bcc", "status": "failed", "smtp_code": 550,
         "enhanced_code": "5.1.1", "text": TRICKY, "diagnosis": "send.recipient_unknown"},
    ]
    values: dict[str, Any] = {
        "id": "msg_0123456789abcdef", "state": "queued", "account_id": "acc_01", "from_email": "bakker@example.nl",
        "subject": TRICKY, "header_message_id": "<a.b@example.nl>", "size": 27_123, "attachment_count": 1,
        "metadata": {"invoice_id": "2026-0042", "klant": TRICKY}, "send_at": None, "next_attempt_at": NOW,
        "attempts": 0, "reason": None, "created_at": NOW, "updated_at": NOW, "sent_at": None,
        "recipients": recipients, **changes,
    }
    return MessageView(**values)


def _by_model(model: Any, data: Any) -> bytes:
    adapter = TypeAdapter(model)
    return adapter.dump_json(adapter.validate_python(data), by_alias=True)  # what FastAPI does


@pytest.mark.parametrize("view", [
    _view(),
    _view(send_at=NOW, sent_at=NOW, reason="send.auth_failed", attempts=3, metadata={}),
    _view(events=[{"id": "evt_1", "type": "message.queued", "created_at": NOW.isoformat(),
                   "data": {"recipients": ["klant@example.org"], "n": 1.5, "ok": True, "none": None}}],
          sent_copy={"state": "done", "folder": "Verzonden", "uid": 42, "attempts": 1, "detail": None}),
])
def test_a_message_is_written_as_its_response_model_writes_it(view: MessageView) -> None:
    data = view.to_dict()
    assert pydantic_core.to_json(message_out(data)) == _by_model(MessageOut, data)
    assert b'"events":' in pydantic_core.to_json(message_out(data))  # null when absent, as before


def test_a_batch_answer_is_written_as_its_response_model_writes_it() -> None:
    problem = {"type": "about:blank", "title": TRICKY, "status": 422, "code": "request.invalid",
               "errors": [{"loc": ["body", "messages", "1", "to", "0"], "msg": "bad", "type": "value_error"}]}
    results = [{"index": 0, "status": 202, "message": message_out(_view().to_dict()), "error": None},
               {"index": 1, "status": 422, "message": None, "error": problem}]
    body = {"accepted": 1, "replayed": 0, "failed": 1, "results": results}
    model_input = {**body, "results": [{k: v for k, v in r.items() if v is not None} for r in results]}
    assert pydantic_core.to_json(body) == _by_model(BatchOut, model_input)


def test_the_document_still_names_the_models(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    try:
        spec = create_app(runtime).openapi()
    finally:
        runtime.close()
    single = spec["paths"]["/v1/messages"]["post"]["responses"]["202"]["content"]["application/json"]["schema"]
    batch = spec["paths"]["/v1/messages/batch"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert single == {"$ref": "#/components/schemas/MessageOut"}
    assert batch == {"$ref": "#/components/schemas/BatchOut"}
