"""Invoices once they exist: changing one through its status machine, the Pending Invoices list
and totals, the per-vendor rollup, approval and rejection, reconciliation flags and exports."""
