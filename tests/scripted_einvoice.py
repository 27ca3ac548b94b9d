"""A well-formed EN 16931 e-invoice (CII) that also carries an XHTML <script>: the stored-script
attack of issue 18. A browser that renders it as XML runs the script in the origin serving it;
served as text, or sandboxed, it is inert."""
from __future__ import annotations

import facturx

from tests.unit.einvoice_samples import INVOICE

# What the script would do in a page of ours: set a marker, reach the page that frames it, read
# the session cookie and show it.
SCRIPT = ("window.__pwned = 1; try { parent.__pwned = 1; top.__pwned = 1 } catch (e) {} "
          "alert('pwned ' + document.cookie)")
XHTML = "http://www.w3.org/1999/xhtml"


def scripted_cii(number: str = "FX-2026-0042") -> bytes:
    """The sample invoice as CII XML, numbered `number`, with the script as the root's first child."""
    xml = facturx.generate_cii_xml({**INVOICE, "BT-1": number}, level="en16931", check_schematron=False)
    head, _, rest = xml.partition(b"?>")
    root_end = rest.index(b">") + 1
    script = f'<h:script xmlns:h="{XHTML}">{SCRIPT}</h:script>'.encode()
    return head + b"?>" + rest[:root_end] + script + rest[root_end:]
