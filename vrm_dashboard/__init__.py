"""VRM Dashboard: vendor relationships, payables and invoicing."""
