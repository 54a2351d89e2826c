"""The one hardened XML parser for untrusted documents (inbound bodies, buyers' answers)."""

from __future__ import annotations

import threading

from lxml import etree

_local = threading.local()


def hardened_parser() -> etree.XMLParser:
    """This thread's parser (lxml parsers must not be shared between threads).

    No entity resolution, no network, no DTD loading, no huge trees: entity-expansion bombs
    and external entities cannot be used against us. Comments and processing instructions
    are dropped; they carry no data.
    """
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            dtd_validation=False,
            remove_comments=True,
            remove_pis=True,
        )
    return parser
