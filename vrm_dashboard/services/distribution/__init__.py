"""Sending our invoices: when one is due to go out and what holds it, the document and e-mail it
becomes, branding, delivered copies, bounces, the delivery report, and disputes with re-issue."""
