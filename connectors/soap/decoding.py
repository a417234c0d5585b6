"""rpc/encoded answers decoded straight into plain dicts and lists, by the WSDL's types.

zeep builds a value object per element of an answer and the connector then turns them into
dicts again (``serialize_object``): against SuiteCRM, a page of 200 accounts with all fields
(about 14,000 ``name_value`` structs) spent three quarters of the connector's read time there
(tests/bench/results/suitecrm-2026-12-02.md). For rpc operations of a SOAP-ENC WSDL the
connector replaces the output message's ``deserialize`` with this decoder, which gives the
same result zeep would after ``serialize_object``:

- a SOAP-ENC array is a list of its members (decoded by the array's member type);
- a struct is a dict with EVERY element its type declares (``None`` where the answer has none),
  so a records path naming an element that does not exist is still told apart from an empty
  one; an element its type does not declare is an ``XMLParseError`` (zeep's strict mode);
- a simple value goes through its type (``xsd:int`` → int), an empty one is None;
  ``xsi:nil`` is None;
- the answer is unwrapped as zeep unwraps it: one part → its value; one element in that
  part's struct → that element's value (Sugar's ``set_entry`` answers its id).

Everything before the body is still zeep's (HTTP status, the hardened XML parse, WS-Security,
plugins, faults). Multi-reference answers (``href``) are left to zeep.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from zeep.exceptions import XMLParseError
from zeep.wsdl.messages.soap import RpcMessage

from connectors.soap.encoding import XSI

_NIL = f"{{{XSI}}}nil"
_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def decode_answers(client: Any) -> int:
    """Install the decoder on every rpc operation of the client's WSDL; how many."""
    count = 0
    for binding in client.wsdl.bindings.values():
        for operation in getattr(binding, "_operations", {}).values():
            message = getattr(operation, "output", None)
            if isinstance(message, RpcMessage) and message.body is not None and not _has_headers(message):
                message.deserialize = _Decoder(message)  # type: ignore[method-assign]
                count += 1
    return count


def _has_headers(message: RpcMessage) -> bool:
    header = getattr(message, "header", None)
    return bool(header is not None and getattr(header.type, "_element", None))


class _Decoder:
    def __init__(self, message: RpcMessage) -> None:
        self.message = message
        self.zeep = type(message).deserialize.__get__(message)  # zeep's own, for multi-ref answers

    def __call__(self, envelope: etree._Element) -> Any:
        body = envelope.find(f"{{{_ENV}}}Body")
        if body is None or not len(body):
            return None
        if body.find(".//*[@href]") is not None:
            from zeep.helpers import serialize_object

            return serialize_object(self.zeep(envelope), dict)
        wrapper = body[0]
        declared: Any = self.message.body.type.elements  # type: ignore[union-attr]
        parts = {name: _decode(_child(wrapper, name), element.type) for name, element in declared}
        if not parts:
            return None
        if len(parts) > 1:
            return parts
        [(name, element)] = declared
        value = parts[name]
        inner = _struct_elements(element.type)
        if isinstance(value, dict) and len(inner) == 1 and not getattr(element.type, "attributes", None):
            return value[inner[0][0]]
        return value


def _child(node: etree._Element, name: str) -> etree._Element | None:
    for child in node:
        if etree.QName(child).localname == name:
            return child
    return None


def _struct_elements(xsd_type: Any) -> list[tuple[str, Any]]:
    if getattr(xsd_type, "_array_type", None) is not None:
        return []
    try:
        return list(getattr(xsd_type, "elements", None) or [])
    except (AttributeError, TypeError):
        return []


def _decode(node: etree._Element | None, xsd_type: Any) -> Any:
    if node is None or node.get(_NIL) in ("true", "1"):
        return None
    array = getattr(xsd_type, "_array_type", None)
    if array is not None:
        member = getattr(array, "array_type", None)
        return [_decode(child, member) for child in node if isinstance(child.tag, str)]
    elements = _struct_elements(xsd_type)
    if elements:
        types = dict(elements)
        out: dict[str, Any] = dict.fromkeys(types)
        for child in node:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if name not in types:
                raise XMLParseError(f"Unexpected element {child.tag!r}")
            out[name] = _decode(child, types[name].type)
        return out
    if len(node):  # a type the WSDL does not describe (anyType): its structure as it is
        if node.get("{http://schemas.xmlsoap.org/soap/encoding/}arrayType"):
            return [_decode(child, None) for child in node if isinstance(child.tag, str)]
        return {etree.QName(child).localname: _decode(child, None) for child in node if isinstance(child.tag, str)}
    if node.text is None:
        return None
    convert = getattr(xsd_type, "pythonvalue", None)
    if convert is None:
        return node.text
    try:
        return convert(node.text)
    except (TypeError, ValueError):
        return None
