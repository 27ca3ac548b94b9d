"""Vendors: their records and card, data migration, matching an invoice to its sender, rate
cards, self-onboarding and review, the vendor's own portal and invoices, and the embeddable
widget."""
