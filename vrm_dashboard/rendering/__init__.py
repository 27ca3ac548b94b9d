"""Documents we issue, rendered from plain values: the invoice PDF and its e-invoice XML."""
