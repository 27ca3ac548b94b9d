"""Reading vendor invoices: embedded or plain e-invoice XML first, otherwise the PDF's text."""
from vrm_dashboard.parsing.extraction import ExtractedField, ExtractedLine, Extraction
from vrm_dashboard.parsing.reader import UnreadableDocument, parse_document

__all__ = ["Extraction", "ExtractedField", "ExtractedLine", "UnreadableDocument", "parse_document"]
