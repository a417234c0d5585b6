"""rpc/encoded SOAP (SOAP 1.1 section 5) as servers such as NuSOAP read it.

zeep loads an rpc/encoded WSDL and parses its answers, but its requests are not what a
section-5 server expects, and the difference is silent: NuSOAP (SugarCRM, SuiteCRM) reads an
array without ``SOAP-ENC:arrayType`` as a struct, so ``set_entry`` stores a record with every
field empty and answers with its id as if all went well. This module closes the gaps:

- ``SoapEncoding`` (a zeep plugin, on for every rpc operation of a WSDL that uses SOAP-ENC
  arrays): each array in the request carries ``SOAP-ENC:arrayType="tns:name_value[3]"`` and
  ``xsi:type``; the operation element carries ``SOAP-ENV:encodingStyle`` (a part given as
  ``None``, YAML ``null``, the client sends as zeep's ``Nil``: ``xsi:nil="true"``);
- ``allow_empty_arrays``: zeep's array members are ``minOccurs=1``, so ``[]`` (an empty
  ``select_fields``, say) would be refused before sending; section 5 allows empty arrays;
- ``parts`` lists an operation's rpc parts, so a request missing one is refused on our side
  with the names of the missing parts (the server would otherwise answer with something that
  looks like its own fault, or a refused login).
"""

from __future__ import annotations

from typing import Any, cast

from lxml import etree
from zeep import Plugin
from zeep.wsdl.messages.soap import RpcMessage
from zeep.xsd.elements.any import Any as AnyElement
from zeep.xsd.elements.indicators import Indicator

ENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def uses_encoding(client: Any) -> bool:
    """True when the WSDL's types build on SOAP-ENC (its arrays are section-5 arrays)."""
    return any(getattr(t, "_array_type", None) for t in client.wsdl.types.types)


def allow_empty_arrays(client: Any) -> None:
    """Let every SOAP-ENC array of the WSDL be empty (zeep makes its members minOccurs=1)."""
    for xsd_type in client.wsdl.types.types:
        if not getattr(xsd_type, "_array_type", None):
            continue
        for _name, element in xsd_type.elements_nested:
            nested: list[Any] = list(cast(Any, element)) if isinstance(element, Indicator) else []
            for inner in [element, *nested]:
                if isinstance(inner, AnyElement):
                    inner.min_occurs = 0


def parts(operation: Any) -> list[str] | None:
    """The rpc parts of an operation's input in order; None for document style (no parts)."""
    message = operation.input
    if not isinstance(message, RpcMessage) or message.body is None:
        return None
    return [name for name, _element in message.body.type.elements]


class SoapEncoding(Plugin):
    """Annotates rpc/encoded requests (see the module docstring)."""

    def egress(
        self, envelope: etree._Element, http_headers: dict[str, str], operation: Any, binding_options: Any
    ) -> tuple[etree._Element, dict[str, str]]:
        message = operation.input
        if not isinstance(message, RpcMessage) or message.body is None:
            return envelope, http_headers
        body = envelope.find(f"{{{_ENV}}}Body")
        if body is None or not len(body):
            return envelope, http_headers
        wrapper = body[0]
        namespaces: dict[str, str] = {}
        wrapper.set(f"{{{_ENV}}}encodingStyle", ENC)
        present = {etree.QName(child).localname: child for child in wrapper}
        for name, element in message.body.type.elements:
            node = present.get(name)
            if node is not None and node.get(f"{{{XSI}}}nil") != "true":
                _annotate(node, element.type, namespaces)
        if not namespaces:
            return envelope, http_headers
        # QNames inside attribute values need their prefixes declared: on a new root
        rooted = etree.Element(
            envelope.tag,
            attrib=dict(envelope.attrib),
            nsmap={**envelope.nsmap, **{p: ns for ns, p in namespaces.items()}},
        )
        rooted.extend(list(envelope))
        return rooted, http_headers


def _prefix(namespace: str, namespaces: dict[str, str]) -> str:
    fixed = {ENC: "SOAP-ENC", XSI: "xsi", XSD: "xsd"}
    if namespace not in namespaces:
        namespaces[namespace] = fixed.get(namespace) or f"enc{len(namespaces)}"
    return namespaces[namespace]


def _qname(qname: etree.QName | None, namespaces: dict[str, str]) -> str | None:
    if qname is None or not qname.namespace:
        return None
    return f"{_prefix(qname.namespace, namespaces)}:{qname.localname}"


def _annotate(node: etree._Element, xsd_type: Any, namespaces: dict[str, str]) -> None:
    """Mark ``node`` (of ``xsd_type``) and everything below it the way section 5 wants."""
    array = getattr(xsd_type, "_array_type", None)
    if array is not None:
        member = getattr(array, "array_type", None)
        member_name = _qname(getattr(member, "qname", None), namespaces) or "xsd:anyType"
        _prefix(ENC, namespaces), _prefix(XSI, namespaces)
        node.set(f"{{{ENC}}}arrayType", f"{member_name}[{len(node)}]")
        own = _qname(getattr(xsd_type, "qname", None), namespaces)
        if own:
            node.set(f"{{{XSI}}}type", own)
        for child in node:
            if member is not None:
                _annotate(child, member, namespaces)
        return
    elements = dict(getattr(xsd_type, "elements", []) or [])
    if not elements:
        return
    for child in node:
        element = elements.get(etree.QName(child).localname)
        if element is not None:
            _annotate(child, element.type, namespaces)
