"""Field types the API's response models share: what the OpenAPI document says a value is, where
the value itself passes through as the service made it (so the wire format stays the service's)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import WithJsonSchema

__all__ = ["DateTimeText", "documented_as"]

#: An ISO 8601 timestamp the service already formatted: documented as ``date-time``.
DateTimeText = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


def documented_as(schema: str) -> WithJsonSchema:
    """A JSON object (or null) passed through as built, documented as the component ``schema``."""
    return WithJsonSchema({"anyOf": [{"$ref": f"#/components/schemas/{schema}"}, {"type": "null"}]})


Problem = Annotated[dict[str, Any] | None, documented_as("Problem")]
Explanation = Annotated[dict[str, Any] | None, documented_as("ExplainOut")]
