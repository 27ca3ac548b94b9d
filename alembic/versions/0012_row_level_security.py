"""row-level security on PostgreSQL: a second wall holding every transaction to its organizations

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:00:00

The app's own scoping (db/tenancy.py) is the first wall. This one is the database's: each
transaction of a scoped session runs as the `vrm_tenant` role with `vrm.scope` set to its
organization ids (db/row_security.py), and the policies below show and accept only the rows of
those organizations, mirroring the first wall table by table. Tables with no owner (the catalogue,
users and their sessions and keys, settings, organizations, throttles, job runs, rates, stored
documents) have no policy: vrm_tenant reaches them as the app always did.

The account that migrates and connects owns the tables, so the policies do not bind it: jobs that
span organizations, migrations and the tests' resets run unscoped as it. Any other role (there is
none by default) reaches no row of these tables. A later migration that adds a
tenant-owned table gives it a policy of its own; grants on new tables come by default.

SQLite has no row-level security: nothing to do there.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROLE = "vrm_tenant"
POLICY = "tenant_scope"

# The scope's organization ids. Unset (a transaction nobody scoped) is NULL and "" (a scope of
# nobody) an empty array: either way no organization, so no rows.
_SCOPE = "string_to_array(current_setting('vrm.scope', true), ',')::integer[]"


def _in_scope(column: str) -> str:
    return f"{column} = ANY ({_SCOPE})"


def _through(table: str, column: str, parent: str) -> str:
    # The parent's own policy applies inside the subquery: a child is in scope when its parent is.
    # EXISTS probes the parent by key per row (invoices and payouts are many); vendors are few
    # enough that the planner hashes them once per statement.
    if parent == "vendor":
        return f"{column} IN (SELECT id FROM vendor)"
    return f"EXISTS (SELECT 1 FROM {parent} AS parent WHERE parent.id = {table}.{column})"


# Written out as this release knows the tables (a migration must not change when the code does),
# mirroring db/tenancy.py: table -> (which rows it shows and may change, which it accepts written).
_OWNED = ("vendor", "activity_source", "intake", "bank_statement", "payment_file", "notification", "email_delivery")
_BY_VENDOR = ("vendor_contact", "vendor_balance", "vendor_onboarding", "vendor_tax_form", "vendor_document",
              "widget_link", "rate_card", "rate_rule", "activity_record", "invoice_rollup", "payout",
              "payment_transaction")
_BY_INVOICE = ("invoice_line", "invoice_approval", "invoice_flag", "invoice_extraction", "invoice_dispute",
               "collection_attempt", "payment_reminder")

# An audit entry about nothing an organization owns has no owner (the installation's own entry):
# a scope of nobody (before sign-in) writes such entries, and PostgreSQL shows a row it inserts
# with RETURNING only if the row passes the read policy. A trigger notes, for this transaction
# only, the ids of the unowned entries a held transaction writes: it sees those and no others.
_OWN_UNOWNED = "string_to_array(current_setting('vrm.own_unowned_entries', true), ',')::bigint[]"


def _policies() -> dict[str, tuple[str, str]]:
    policies: dict[str, tuple[str, str]] = {table: (_in_scope("owner_id"),) * 2 for table in _OWNED}
    # An invoice is its owner's: the payer of a payable, the issuer of a receivable (the customer
    # it bills reads it only in its incoming view, which looks past the scope by its own condition).
    policies["invoice"] = (_in_scope("owner_id"),) * 2
    policies["audit_log"] = (f"{_in_scope('owner_id')} OR (owner_id IS NULL AND id = ANY ({_OWN_UNOWNED}))",
                             f"owner_id IS NULL OR {_in_scope('owner_id')}")
    for table in _BY_VENDOR:
        policies[table] = (_through(table, "vendor_id", "vendor"),) * 2
    for table in _BY_INVOICE:
        policies[table] = (_through(table, "invoice_id", "invoice"),) * 2
    policies["payout_approval"] = (_through("payout_approval", "payout_id", "payout"),) * 2
    policies["statement_line"] = (_through("statement_line", "statement_id", "bank_statement"),) * 2
    return policies


def _names() -> tuple[str, str]:
    bind = op.get_bind()
    quote = bind.dialect.identifier_preparer.quote
    schema, database = bind.execute(sa.text("SELECT current_schema(), current_database()")).one()
    return quote(schema), quote(database)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema, database = _names()
    # The role is the server's, shared by its databases: made once, by whichever migrates first.
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                BEGIN
                    CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
                EXCEPTION
                    WHEN duplicate_object THEN NULL;
                    WHEN insufficient_privilege THEN
                        RAISE EXCEPTION 'this account may not create roles: have a database administrator run '
                                        '"CREATE ROLE {ROLE} NOLOGIN; GRANT {ROLE} TO %;", then migrate again',
                                        quote_ident(current_user);
                END;
            END IF;
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}' AND (rolsuper OR rolbypassrls)) THEN
                RAISE EXCEPTION 'role {ROLE} bypasses row-level security: it cannot hold a transaction to its scope';
            END IF;
            -- The app's account takes the role per transaction (SET LOCAL ROLE).
            IF NOT pg_has_role(current_user, '{ROLE}', 'MEMBER') THEN
                GRANT {ROLE} TO CURRENT_USER;
            END IF;
        END $$
    """)
    op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {ROLE}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {ROLE}")
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE ON SEQUENCES TO {ROLE}")
    # Bulk approvals work through a temporary table.
    op.execute(f"GRANT TEMPORARY ON DATABASE {database} TO {ROLE}")

    op.execute("""
        CREATE FUNCTION vrm_note_unowned_entry() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM set_config('vrm.own_unowned_entries',
                               concat_ws(',', NULLIF(current_setting('vrm.own_unowned_entries', true), ''), NEW.id),
                               true);
            RETURN NEW;
        END $$
    """)
    # Only where the policies bind: the system's own bulk entries pass untouched.
    op.execute("CREATE TRIGGER audit_log_note_unowned BEFORE INSERT ON audit_log FOR EACH ROW "
               "WHEN (NEW.owner_id IS NULL AND row_security_active('audit_log')) "
               "EXECUTE FUNCTION vrm_note_unowned_entry()")

    for table, (visible, accepted) in _policies().items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {POLICY} ON {table} TO {ROLE} USING ({visible}) WITH CHECK ({accepted})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema, database = _names()
    for table in reversed(list(_policies())):
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER IF EXISTS audit_log_note_unowned ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS vrm_note_unowned_entry()")
    op.execute(f"REVOKE TEMPORARY ON DATABASE {database} FROM {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE USAGE ON SEQUENCES FROM {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA {schema} FROM {ROLE}")
    # Another database of this server may still use the role, or it was a database administrator's
    # to make and is theirs to drop: then it stays.
    op.execute(f"""
        DO $$
        BEGIN
            DROP ROLE IF EXISTS {ROLE};
        EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN
            RAISE NOTICE 'role {ROLE} kept: still used by another database of this server, or not ours to drop';
        END $$
    """)
