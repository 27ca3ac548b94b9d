"""Bank statements read into plain entries: CSV, ISO 20022 camt.053 and SWIFT MT940."""
