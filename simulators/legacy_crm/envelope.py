"""SOAP 1.1 on the server side: read a request envelope safely, write answers and faults,
and the broken answers a misbehaving service sends (see ``store.Misbehaviour``)."""

from __future__ import annotations

from typing import Any

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: Requests come from anyone: no DTD, no entities, no network, no huge trees.
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    remove_comments=True,
)


class Fault(Exception):
    """Answered as a SOAP Fault (HTTP 500) with this faultcode and faultstring."""

    def __init__(self, message: str, code: str = "soap:Client"):
        super().__init__(message)
        self.code = code


def parse_request(body: bytes) -> tuple[etree._Element | None, etree._Element]:
    """(SOAP Header or None, the Body's first element)."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise Fault(f"request is not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise Fault("a DOCTYPE is not allowed in a SOAP message")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise Fault("request is not a SOAP 1.1 Envelope")
    body_el = root.find(f"{{{SOAP_ENV}}}Body")
    if body_el is None or len(body_el) == 0:
        raise Fault("SOAP Body is empty")
    return root.find(f"{{{SOAP_ENV}}}Header"), body_el[0]


def local(el: etree._Element) -> str:
    return etree.QName(el).localname


def to_python(el: etree._Element, lists: frozenset[str] = frozenset()) -> Any:
    """An element's content as plain values: text, or a dict of its children (children named
    in ``lists`` — or repeated ones — as lists)."""
    if el.get(f"{{{XSI}}}nil") == "true":
        return None
    if len(el) == 0:
        return el.text or ""
    grouped: dict[str, list[Any]] = {}
    for child in el:
        grouped.setdefault(local(child), []).append(to_python(child, lists))
    return {k: v if k in lists or len(v) > 1 else v[0] for k, v in grouped.items()}


def envelope(payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(payload)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def fault(message: str, code: str = "soap:Client") -> bytes:
    el = etree.Element(f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(el, "faultcode").text = code
    etree.SubElement(el, "faultstring").text = message
    return envelope(el)


def broken(kind: str, good: bytes, probe_url: str, xxe_file: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of a misbehaving answer; ``good`` is the real answer."""
    if kind == "malformed":
        return 200, "text/xml; charset=utf-8", b"Warning: mysql_connect(): Too many connections in soap.php"
    if kind == "truncated":
        return 200, "text/xml; charset=utf-8", good[: len(good) // 2]
    if kind == "unavailable":
        return 503, "text/html", b"<html><body><h1>503 Service Unavailable</h1></body></html>"
    if kind == "fault":
        return 500, "text/xml; charset=utf-8", fault("Database error: deadlock found on page read", "soap:Server")
    if kind == "xxe":
        doctype = (
            f'<!DOCTYPE soap:Envelope [<!ENTITY file SYSTEM "file://{xxe_file}"><!ENTITY probe SYSTEM "{probe_url}">]>'
        )
        body = (
            f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
            "<faultcode>soap:Server</faultcode><faultstring>&file;&probe;</faultstring>"
            "</soap:Fault></soap:Body></soap:Envelope>"
        )
        return 200, "text/xml; charset=utf-8", f'<?xml version="1.0"?>\n{doctype}\n{body}'.encode()
    if kind == "bomb":
        lols = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
        body = (
            f"<!DOCTYPE soap:Envelope [{''.join(lols)}]>"
            f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><x>&lol9;</x></soap:Body></soap:Envelope>'
        )
        return 200, "text/xml; charset=utf-8", body.encode()
    raise ValueError(f"unknown misbehaviour {kind!r}")
