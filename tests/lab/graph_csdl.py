"""Microsoft Graph's published v1.0 metadata (CSDL) as a checker for JSON bodies.

The same team writes mailport's Graph client and the lab's Graph server, so a shared
misunderstanding would pass every round-trip test. This module reads Microsoft's own service
description (``../shared/data/msgraph/v1.0-cleanMetadata.xml``, test data: read in place, never
copied into the project) and checks a JSON value against an entity or complex type (property
names, value types, enum members, nested types, ``@odata.type`` derived types) or against the
parameters of a bound action (``sendMail``'s ``Message``/``SaveToSentItems``,
``createUploadSession``'s ``AttachmentItem``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

_NS = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}
_DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "msgraph" / "v1.0-cleanMetadata.xml"
METADATA_PATH = Path(os.environ.get("MAILPORT_GRAPH_CSDL", str(_DEFAULT)))


@dataclass
class StructuredType:
    name: str
    base: str | None
    properties: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """name -> (type, nullable)."""
    open: bool = False


@dataclass
class Action:
    name: str
    binding: str
    parameters: dict[str, tuple[str, bool]]


class Csdl:
    def __init__(self, path: Path = METADATA_PATH) -> None:
        root = ET.parse(path).getroot()
        schema = root.find(".//edm:Schema[@Namespace='microsoft.graph']", _NS)
        if schema is None:
            raise ValueError(f"{path}: no microsoft.graph schema")
        self.types: dict[str, StructuredType] = {}
        self.enums: dict[str, set[str]] = {}
        self.actions: list[Action] = []
        for element in schema:
            tag = element.tag.rsplit("}", 1)[-1]
            name = element.get("Name", "")
            if tag in ("EntityType", "ComplexType"):
                base = element.get("BaseType")
                st = StructuredType(name, base.removeprefix("graph.").removeprefix("microsoft.graph.")
                                    if base else None, open=element.get("OpenType") == "true")
                for prop in element.findall("edm:Property", _NS):
                    st.properties[prop.get("Name", "")] = (prop.get("Type", ""), prop.get("Nullable") != "false")
                self.types[name] = st
            elif tag == "EnumType":
                self.enums[name] = {m.get("Name", "") for m in element.findall("edm:Member", _NS)}
            elif tag == "Action":
                params = element.findall("edm:Parameter", _NS)
                if params and element.get("IsBound") == "true":
                    self.actions.append(Action(name, params[0].get("Type", ""), {
                        p.get("Name", ""): (p.get("Type", ""), p.get("Nullable") != "false") for p in params[1:]}))

    def action(self, name: str, binding: str) -> Action:
        for action in self.actions:
            if action.name == name and action.binding == binding:
                return action
        raise KeyError(f"no action {name} bound to {binding}")

    def all_properties(self, type_name: str) -> dict[str, tuple[str, bool]]:
        props: dict[str, tuple[str, bool]] = {}
        chain: str | None = type_name
        while chain:
            st = self.types[chain]
            props = {**st.properties, **props}
            chain = st.base
        return props

    def is_subtype(self, name: str, of: str) -> bool:
        chain: str | None = name
        while chain:
            if chain == of:
                return True
            chain = self.types[chain].base if chain in self.types else None
        return False

    # ---- checking
    def check_entity(self, value: Any, type_name: str, where: str = "$") -> list[str]:
        """Problems of ``value`` as a ``graph.<type_name>`` (empty when it conforms)."""
        return self._check(value, f"graph.{type_name}", False, where)

    def check_action(self, body: Any, name: str, binding: str) -> list[str]:
        """Problems of ``body`` as the parameters of action ``name`` bound to ``binding``.

        Names are compared exactly as the metadata spells them (Graph itself ignores case; a
        client that spells them as published works with every server)."""
        action = self.action(name, binding)
        if not isinstance(body, dict):
            return [f"{name}: body is not an object"]
        problems = [f"{name}: unknown parameter {k!r} (has {sorted(action.parameters)})"
                    for k in body if k not in action.parameters]
        for pname, (ptype, nullable) in action.parameters.items():
            if pname not in body:
                if not nullable:
                    problems.append(f"{name}: required parameter {pname!r} missing")
                continue
            problems += self._check(body[pname], ptype, nullable, f"{name}.{pname}")
        return problems

    def _check(self, value: Any, type_ref: str, nullable: bool, where: str) -> list[str]:
        if value is None:
            return [] if nullable else [f"{where}: null for a non-nullable {type_ref}"]
        m = re.fullmatch(r"Collection\((.+)\)", type_ref)
        if m:
            if not isinstance(value, list):
                return [f"{where}: expected a collection of {m.group(1)}, got {type(value).__name__}"]
            return [p for i, v in enumerate(value) for p in self._check(v, m.group(1), True, f"{where}[{i}]")]
        if type_ref.startswith("Edm."):
            return _check_primitive(value, type_ref, where)
        name = type_ref.removeprefix("graph.").removeprefix("microsoft.graph.")
        if name in self.enums:
            members = self.enums[name]
            if not isinstance(value, str) or not all(v.strip() in members for v in value.split(",")):
                return [f"{where}: {value!r} is not a member of {name}"]
            return []
        if name not in self.types:
            return [f"{where}: unknown type {type_ref}"]
        if not isinstance(value, dict):
            return [f"{where}: expected an object of {name}, got {type(value).__name__}"]
        actual = name
        odata_type = value.get("@odata.type")
        if odata_type is not None:
            derived = str(odata_type).removeprefix("#").removeprefix("microsoft.graph.")
            if derived not in self.types or not self.is_subtype(derived, name):
                return [f"{where}: @odata.type {odata_type!r} is not a {name}"]
            actual = derived
        props = self.all_properties(actual)
        problems: list[str] = []
        for key, item in value.items():
            if key.startswith("@") or "@odata." in key:
                continue
            if key not in props:
                problems.append(f"{where}: {actual} has no property {key!r}")
                continue
            ptype, pnullable = props[key]
            problems += self._check(item, ptype, pnullable, f"{where}.{key}")
        return problems


def _check_primitive(value: Any, edm: str, where: str) -> list[str]:
    ok: bool
    if edm == "Edm.String":
        ok = isinstance(value, str)
    elif edm == "Edm.Boolean":
        ok = isinstance(value, bool)
    elif edm in ("Edm.Int32", "Edm.Int64", "Edm.Int16", "Edm.Byte"):
        bits = {"Edm.Int32": 31, "Edm.Int64": 63, "Edm.Int16": 15, "Edm.Byte": 8}[edm]
        ok = isinstance(value, int) and not isinstance(value, bool) and -(2 ** bits) <= value < 2 ** bits
    elif edm in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif edm == "Edm.DateTimeOffset":
        ok = isinstance(value, str) and _is_datetime(value)
    elif edm == "Edm.Binary":
        ok = isinstance(value, str) and _is_base64(value)
    elif edm == "Edm.Guid":
        ok = isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F-]{36}", value) is not None
    else:
        ok = True
    return [] if ok else [f"{where}: {value!r} is not an {edm}"]


def _is_datetime(value: str) -> bool:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        return False
    return True


@functools.lru_cache(maxsize=1)
def graph_metadata() -> Csdl:
    return Csdl()


_NO_JSON = frozenset({"send", "sendMail", "uploadChunk", "getMessageValue", "deleteMessage"})
"""Operations whose request (if any) and success answer carry no JSON to check (202/201/204, MIME)."""


def exchange_problems(exchanges: Iterable[Any]) -> list[str]:
    """Every request the client made and every answer the lab Graph server gave
    (``LabGraphServer.exchanges``), held to Microsoft's metadata: JSON bodies against their entity
    types and action parameters, error bodies in Graph's ``{"error": {"code", "message"}}`` shape,
    202 without a body for the send actions. An operation this checker does not know is a problem
    too, so a new endpoint cannot slip past it."""
    csdl = graph_metadata()
    problems: list[str] = []
    for x in exchanges:
        where = f"{x.operation} {x.status}"
        if x.status >= 400:
            body = x.response_json or {}
            error = body.get("error") if isinstance(body, dict) else None
            if not (isinstance(error, dict) and isinstance(error.get("code"), str)
                    and isinstance(error.get("message"), str)):
                problems.append(f"{where}: error body is not {{'error': {{'code', 'message'}}}}: {body!r}")
            continue
        if x.operation == "createUploadSession":
            problems += csdl.check_action(x.request_json, "createUploadSession", "Collection(graph.attachment)")
            problems += csdl.check_entity(x.response_json, "uploadSession", where)
        elif x.operation == "uploadChunk" and x.status == 200:
            problems += csdl.check_entity(x.response_json, "uploadSession", where)
        elif x.operation == "sendMail" and str(x.request_type).startswith("application/json"):
            problems += csdl.check_action(x.request_json, "sendMail", "graph.user")
        elif x.operation == "createMessage":
            problems += csdl.check_entity(x.response_json, "message", where)
        elif x.operation == "addAttachment":
            problems += csdl.check_entity(x.request_json, "attachment", f"{where} request")
            problems += csdl.check_entity(x.response_json, "attachment", where)
        elif x.operation == "getMailFolder":
            problems += csdl.check_entity(x.response_json, "mailFolder", where)
        elif x.operation in ("listMessages", "delta"):
            for i, item in enumerate(x.response_json["value"]):
                problems += csdl.check_entity(item, "message", f"{where} value[{i}]")
        elif x.operation not in _NO_JSON:
            problems.append(f"{where}: no metadata check for this operation")
        if x.operation in ("sendMail", "send") and (x.status != 202 or x.response_json is not None):
            problems.append(f"{where}: Graph answers 202 without a body")
    return problems


__all__ = ["METADATA_PATH", "Csdl", "exchange_problems", "graph_metadata"]
