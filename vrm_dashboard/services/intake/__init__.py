"""Everything that arrives: vendor invoice files (upload, API, the watched mailbox), activity
data (files, rows, connectors) turned into self-generated invoices, and the intake log."""
