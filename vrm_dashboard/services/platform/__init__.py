"""What every capability stands on: who is acting and the one permission guard, the errors
callers turn into messages, the append-only audit log and its search, business settings,
per-user preferences, paging helpers, export files, signed tokens, job-run records, stored
documents, uploaded tables and the connection checks of the Settings screen."""
