"""The business rules, one package per capability. Reflex states, API routes, jobs and the CLI
call these functions; nothing else applies a rule or moves a status."""
