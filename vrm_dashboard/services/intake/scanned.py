"""The intake job's OCR: drafts taken from scans in a web request (which never runs OCR) are
read here, each in the confined reader worker within OCR's page and time limits, and filled in.

Like the mailbox, no unit of work is open while a file is read; each draft's is a short one
after. A run stops after its time budget and the next run takes the rest."""
from __future__ import annotations

import logging
from time import monotonic

from sqlmodel import Session

from vrm_dashboard.parsing import UnreadableDocument, parse_document
from vrm_dashboard.parsing.reader import OCR, CompleteByHand
from vrm_dashboard.parsing.sandbox import ReadersUnavailable
from vrm_dashboard.services.intake import invoice_files
from vrm_dashboard.services.platform.actors import Actor

log = logging.getLogger(__name__)

# A run reads at most this many scans, and starts no new one after RUN_SECONDS (each may take
# OCR's whole budget, 45 seconds, on top).
MAX_PER_RUN = 20
RUN_SECONDS = 120.0


def read_scanned(session: Session, max_per_run: int = MAX_PER_RUN, run_seconds: float = RUN_SECONDS) -> int:
    """OCR the drafts waiting for it; how many were read (or found unreadable)."""
    started = monotonic()
    actor = Actor.system("intake_ocr")
    waiting = invoice_files.waiting_for_ocr(session, max_per_run)
    session.commit()
    done = 0
    for invoice_id in waiting:
        if done and monotonic() - started > run_seconds:
            log.info("OCR run ended with %d scans left for the next run", len(waiting) - done)
            break
        scan = invoice_files.scan_of(session, invoice_id)
        session.commit()
        if scan is None:
            continue
        content, name = scan
        try:
            extraction = parse_document(content, name, ocr=OCR)
        except CompleteByHand as error:
            extraction = invoice_files.unread(str(error))
        except UnreadableDocument as error:  # a limit reached: this scan is not read, never retried
            extraction = invoice_files.unread(f"{error}; complete the invoice by hand")
        except ReadersUnavailable:
            raise  # no fault of the scan: the next run reads it
        except Exception:  # noqa: BLE001 - a flaw in the reader must not hold up every scan after this one
            log.exception("OCR of invoice %s failed", invoice_id)
            extraction = invoice_files.unread("The scan could not be read; complete the invoice by hand")
        if invoice_files.fill_scanned(session, actor, invoice_id, extraction) is not None:
            done += 1
        session.commit()
    return done
