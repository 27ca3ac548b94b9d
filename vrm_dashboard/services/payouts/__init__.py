"""Paying vendors: payouts from approved invoices and their approval, exactly-once execution
through the rails, settlement, bank-statement reconciliation, exchange rates and remittance
advice."""
