"""The one way XML from outside is read: e-invoices (plain or inside a PDF) and bank statements.

The parser expands no entity, loads no DTD, fetches nothing over the network and keeps
libxml2's limits on depth and text size (huge_tree off), whatever lxml's defaults are in the
installed version; should libxml2 still try to load anything from outside (a file or a URL), a
resolver refuses it. A document that declares a DOCTYPE is refused outright, before it is
parsed when the DOCTYPE is where XML puts it: no invoice or statement format needs one, and
it is how billion-laughs and external-entity (XXE) attacks are carried."""
from __future__ import annotations

import codecs
import re

from lxml import etree

# Where a DOCTYPE can stand: after the XML declaration, processing instructions, comments and
# white space. A prolog longer than this is left to the parser and the check after it.
_PROLOG_BYTES = 1024 * 1024
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF8, "utf-8"))


class XmlRefused(ValueError):
    """XML we will not read; the message says why in words a sender can act on."""


class HostileXml(XmlRefused):
    """XML built to attack its reader (a DOCTYPE, entities, a reach outside): refused, never
    read another way."""


class _NothingFromOutside(etree.Resolver):
    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> None:
        raise HostileXml(f"The XML refers to an outside resource ({system_url or public_id}); it was not read")


def safe_parser() -> etree.XMLParser:
    """A fresh parser (lxml parsers are not shared between threads) with every risky feature off.
    (collect_ids stays at its default: turned off, libxml2 loads a declared external DTD.)"""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                             dtd_validation=False, attribute_defaults=False)
    parser.resolvers.add(_NothingFromOutside())
    return parser


def _doctype_in_prolog(content: bytes) -> bool:
    head = content[:_PROLOG_BYTES]
    for bom, codec in _BOMS:
        if head.startswith(bom):
            head = head[len(bom):].decode(codec, "ignore").encode("utf-8")
            break
    position = 0
    while (item := _PROLOG_ITEM.match(head, position)) is not None:
        position = item.end()
    return head.startswith(b"<!DOCTYPE", position)


def _refusal(what: str) -> HostileXml:
    return HostileXml(f"{what} declares a DOCTYPE (entities or an external DTD), which e-invoices and bank "
                      "statements never use; it was not read")


def parse_xml(content: bytes, what: str = "The XML file") -> etree._Element:
    """The root element of `content`, or XmlRefused when it is not well-formed, carries a
    DOCTYPE or reaches for anything outside itself."""
    if _doctype_in_prolog(content):
        raise _refusal(what)
    try:
        root = etree.fromstring(content, parser=safe_parser())
    except etree.XMLSyntaxError as error:
        raise XmlRefused(f"{what} is not well-formed XML: {error}") from None
    except HostileXml as refused:
        raise HostileXml(f"{what}: {refused}") from None
    if root is None:
        raise XmlRefused(f"{what} has no content")
    if root.getroottree().docinfo.doctype:
        raise _refusal(what)
    return root
