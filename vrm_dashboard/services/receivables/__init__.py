"""What organizations bill their customers: the organization hierarchy and payment terms,
customer invoices and their list, monthly consolidation, collection, reminders and AR aging."""
