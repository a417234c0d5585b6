"""What zeep may load while it reads a WSDL, and the zeep plugins a service file may name.

A WSDL of the Sugar era imports the SOAP-encoding and WSDL schemas by their URLs
(``schemaLocation="http://schemas.xmlsoap.org/soap/encoding/"``). The hub never fetches
anything but the WSDL itself, so those two schemas ship with the connector
(``connectors/soap/schemas/``) and are served from there; any other document the WSDL
refers to must be a local file beside the WSDL or in the mappings folder, and anything else
is refused (``ExternalReferenceForbidden``, reported naming the URL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from zeep import Plugin
from zeep.exceptions import ExternalReferenceForbidden
from zeep.plugins import HistoryPlugin

from connectors.errors import ConnectorError
from connectors.soap.encoding import SoapEncoding

SCHEMAS = Path(__file__).parent / "schemas"
#: The public schemas a WSDL may import by URL, and the local copies served instead.
BUNDLED: dict[str, Path] = {
    "http://schemas.xmlsoap.org/soap/encoding/": SCHEMAS / "soap-encoding.xsd",
    "https://schemas.xmlsoap.org/soap/encoding/": SCHEMAS / "soap-encoding.xsd",
    "http://schemas.xmlsoap.org/wsdl/": SCHEMAS / "wsdl.xsd",
    "https://schemas.xmlsoap.org/wsdl/": SCHEMAS / "wsdl.xsd",
}


def is_remote(location: str) -> bool:
    return urlparse(location).scheme in ("http", "https")


def resolve_location(location: str, base: Path) -> str:
    """A WSDL location as given (a URL) or a file path: relative paths are the mappings
    folder's (``base``), never the process's working directory."""
    if is_remote(location) or location.startswith("file:"):
        return location
    path = Path(location).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def guard_load(load: Callable[[str], bytes], wsdl: str, local_roots: Iterable[Path]) -> Callable[[str], bytes]:
    """``Transport.load`` as the hub allows it: the WSDL, the bundled schemas, local files
    under ``local_roots``; nothing else."""
    roots = [root.resolve() for root in local_roots]

    def guarded(url: str) -> bytes:
        bundled = BUNDLED.get(url) or BUNDLED.get(url.rstrip("/") + "/")
        if bundled is not None:
            return bundled.read_bytes()
        if url == wsdl:
            return load(url)
        if is_remote(url):
            raise ExternalReferenceForbidden(url)
        path = Path(url[len("file://") :] if url.startswith("file://") else url).resolve()
        if not any(path == root or root in path.parents for root in roots):
            raise ExternalReferenceForbidden(url)
        return path.read_bytes()

    return guarded


#: Plugins a service file may name (``plugins: [history]``); others come from the entry
#: point group ``concord.soap_plugins`` (a zeep ``Plugin`` subclass taking no arguments).
BUILTIN_PLUGINS: dict[str, Callable[[], Plugin]] = {
    "history": lambda: HistoryPlugin(maxlen=5),
    "soap-encoding": SoapEncoding,
}


def named_plugins(names: Iterable[str], service: str) -> list[Any]:
    """The plugins a service names, built fresh for one client."""
    found: list[Any] = []
    extra = {ep.name: ep for ep in entry_points(group="concord.soap_plugins")}
    for name in names:
        if name in BUILTIN_PLUGINS:
            found.append(BUILTIN_PLUGINS[name]())
        elif name in extra:
            found.append(extra[name].load()())
        else:
            known = sorted({*BUILTIN_PLUGINS, *extra})
            raise ConnectorError(f"{service}: no zeep plugin named {name!r} (known: {', '.join(known)})")
    return found
