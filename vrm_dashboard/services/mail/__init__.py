"""E-mail: the mail-server settings, the queue of outgoing messages sent over SMTP, and the
account e-mails (invitations, sign-up confirmations)."""
