"""The `vrm` command: thin wrappers over the services."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from vrm_dashboard.config import ConfigError, settings


def _cmd_db(args: argparse.Namespace) -> int:
    from vrm_dashboard.db import migrations
    from vrm_dashboard.db.engine import engine

    if args.db_command == "upgrade":
        migrations.upgrade()
        print("Database is at the latest migration.")
    elif args.db_command == "downgrade":
        migrations.downgrade(revision=args.revision)
    elif args.db_command == "revision":
        migrations.new_revision(args.message)
    elif args.db_command == "check":
        diff = migrations.differences(engine())
        if diff:
            print("Models and database differ:")
            for item in diff:
                print(f"  {item}")
            return 1
        print("Models and migrations agree.")
    return 0


def _cmd_seed(args: argparse.Namespace) -> int:
    import time

    from vrm_dashboard.db.engine import engine
    from vrm_dashboard.demo.seeder import seed

    started = time.perf_counter()
    report = seed(engine(), vendors=args.vendors, invoices=args.invoices, seed=args.seed)
    print(f"Seeded in {time.perf_counter() - started:.1f} s: {report}")
    return 0


def _cmd_bootstrap(args: argparse.Namespace) -> int:
    """Migrate, then load demo data if the database holds no vendors."""
    from vrm_dashboard.db import migrations
    from vrm_dashboard.db.engine import engine
    from vrm_dashboard.demo.seeder import is_empty, seed

    migrations.upgrade()
    if is_empty(engine()):
        report = seed(engine(), vendors=args.vendors, invoices=args.invoices, seed=1)
        print(f"Loaded demo data: {report.vendors} vendors, {report.invoices} invoices.")
    return 0


def _cmd_demo_logins(_: argparse.Namespace) -> int:
    from vrm_dashboard.demo.seeder import ALL_DEMO_LOGINS

    for login in ALL_DEMO_LOGINS:
        print(f"  {login.role:<16} {login.email:<24} {login.password}")
    return 0


def _cmd_user_add(args: argparse.Namespace) -> int:
    from sqlmodel import col, select

    from vrm_dashboard.db.engine import session_scope
    from vrm_dashboard.db.models import Vendor
    from vrm_dashboard.services.identity.access_control import install_catalogue
    from vrm_dashboard.services.identity.users import add_user
    from vrm_dashboard.services.platform.actors import Actor, act_as

    password = sys.stdin.readline().rstrip("\n")
    with session_scope() as session:
        act_as(session, Actor.system("cli"))  # an operator on the server: every organization
        install_catalogue(session)
        with _for_organization(session, args.organization):
            vendor_id = None
            if args.vendor_code:
                # Vendor IDs are unique within an organization: one of several is named by it.
                code = args.vendor_code.upper()
                vendors = session.exec(select(Vendor).where(Vendor.vendor_code == code)
                                       .order_by(col(Vendor.id)).limit(2)).all()
                if not vendors:
                    print(f"No vendor with ID {args.vendor_code}", file=sys.stderr)
                    return 1
                if len(vendors) > 1:
                    print(f"Vendor ID {args.vendor_code} is used in more than one organization: "
                          "say which with --organization <id>", file=sys.stderr)
                    return 1
                vendor_id = vendors[0].id
            user = add_user(session, Actor.system("cli"), args.email, args.name, password, args.role,
                            vendor_id=vendor_id, organization_id=None if vendor_id else args.organization)
        print(f"Created user {user.email} with role(s) {', '.join(args.role)}.")
    return 0


def _for_organization(session, organization_id: int | None):  # type: ignore[no-untyped-def]
    """The system acting for one organization (--organization) within the block, or for every
    organization when none is named."""
    from contextlib import nullcontext

    from vrm_dashboard.db import tenancy
    from vrm_dashboard.db.models import Organization

    if organization_id is None:
        return nullcontext()
    if session.get(Organization, organization_id) is None:
        raise SystemExit(f"No organization {organization_id}")
    return tenancy.acting_for(session, organization_id)


def _cmd_api_key(args: argparse.Namespace) -> int:
    from vrm_dashboard.db.engine import session_scope
    from vrm_dashboard.services.identity.api_keys import create_api_key
    from vrm_dashboard.services.identity.users import find_by_email
    from vrm_dashboard.services.platform.actors import Actor, act_as

    with session_scope() as session:
        act_as(session, Actor.system("cli"))
        user = find_by_email(session, args.email)
        if user is None:
            print(f"No user with e-mail {args.email}", file=sys.stderr)
            return 1
        key = create_api_key(session, Actor.system("cli"), args.name, user_id=user.id)
    print(key)
    return 0


def _cmd_scheduler(_: argparse.Namespace) -> int:
    from vrm_dashboard.jobs.scheduler import run_forever

    run_forever()
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from vrm_dashboard.db.engine import session_scope
    from vrm_dashboard.services.invoices.export import export_invoices
    from vrm_dashboard.services.invoices.queries import InvoiceQuery

    fmt = args.format or ("csv" if args.output.endswith(".csv") else "xlsx")
    query = None if args.all else InvoiceQuery(
        search=args.search, statuses=args.status or [], vendor=args.vendor, kind=args.kind,
        issued_from=args.issued_from, issued_to=args.issued_to, flag=args.flag,
        sort=args.sort, descending=not args.ascending,
    )
    with session_scope(read_only=True) as session, open(args.output, "wb") as out:
        rows = export_invoices(session, _cli_actor(session, args.as_user), query, fmt, out)
    print(f"Wrote {rows} invoices to {args.output}.")
    return 0


_READ_FROM = {"einvoice": "e-invoice XML", "ocr": "scanned pages (OCR)"}


def _cmd_parse(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from vrm_dashboard.parsing import UnreadableDocument, parse_document
    from vrm_dashboard.parsing.extraction import describe_evidence
    from vrm_dashboard.parsing.reader import OCR

    path = Path(args.file)
    try:
        extraction = parse_document(path.read_bytes(), path.name, ocr=OCR)
    except (OSError, UnreadableDocument) as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 1
    data = extraction.as_json()
    if args.json:
        # default=str: whatever a reader puts in a field, the command prints it rather than fail.
        print(json.dumps(data, ensure_ascii=False, default=str))
        return 0
    print(f"{path.name}: read from the {_READ_FROM.get(data['method'], 'PDF text')}")
    code = f" (type code {data['type_code']})" if data.get("type_code") else ""
    print(f"  {'document_type':<15} {data['document_type']}{code}")
    for name in ("invoice_number", "issue_date", "due_date", "vendor_name", "vendor_tax_id", "iban", "currency",
                 "subtotal", "tax_total", "total"):
        confidence = data["confidence"].get(name)
        shown = "-" if data[name] is None else data[name]
        print(f"  {name:<15} {shown!s:<40} {'' if confidence is None else f'{confidence:.0%}':<5} "
              f"{describe_evidence(data['evidence'].get(name))}".rstrip())
    for line in data["lines"]:
        print(f"  line: {line['description']} | {line['quantity']} x {line['unit_price']} = {line['amount']}")
    return 0


def _cli_actor(session, email: str | None):  # type: ignore[no-untyped-def]
    """The user a command acts as (audited under their name, within their organization), or the
    system (an operator on the server: every organization)."""
    from sqlmodel import select

    from vrm_dashboard.db.models import User
    from vrm_dashboard.services.platform.actors import Actor, act_as, load_actor

    if not email:
        return act_as(session, Actor.system("cli"))
    user = session.exec(select(User).where(User.email == email.lower())).first()
    actor = load_actor(session, user.id) if user else None
    if actor is None:
        raise SystemExit(f"No active user {email}")
    return act_as(session, actor)


def _cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vrm_dashboard.db.engine import session_scope
    from vrm_dashboard.services.intake import activity_import
    from vrm_dashboard.services.vendors import imports as vendor_import

    path = Path(args.file)
    # Read with no unit of work open: on SQLite one holds the write lock from its first
    # statement, and a spreadsheet may keep its reader busy for minutes.
    read = activity_import.read_activity_file if args.what == "activity" else vendor_import.read_vendors_file
    received = read(path.read_bytes(), path.name)
    if args.as_user and args.organization is not None:
        raise SystemExit("Give --as-user (who acts, in their organization) or --organization, not both")
    with session_scope() as session:
        actor = _cli_actor(session, args.as_user)
        with _for_organization(session, args.organization):
            if args.what == "activity":
                if args.organization is None and not args.as_user and _in_several(session, args.source):
                    print(f"Source {args.source} is used in more than one organization: "
                          "say which with --organization <id>", file=sys.stderr)
                    return 1
                result = activity_import.take_activity_file(session, actor, received, source_name=args.source,
                                                            channel="cli")
            else:
                result = vendor_import.take_vendors_file(session, actor, received, channel="cli")
    print(result.message, file=sys.stderr if result.refused else sys.stdout)
    for problem in result.problems[:50] if result.refused else []:
        print(f"  {problem}", file=sys.stderr)
    return 1 if result.refused else 0


def _in_several(session, source_name: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether an activity source of this name is kept by more than one organization (names are
    unique within one): the system must then be told which organization imports."""
    from sqlalchemy import func, select

    from vrm_dashboard.db.models import ActivitySource

    owners = session.execute(select(func.count(func.distinct(ActivitySource.owner_id)))
                             .where(ActivitySource.name == source_name)).scalar_one()
    return int(owners) > 1


def _cmd_intake(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vrm_dashboard.db.engine import session_scope
    from vrm_dashboard.parsing.reader import OCR
    from vrm_dashboard.services.intake.invoice_files import read_invoice, take_invoice

    failed = 0
    for name in args.files:
        path = Path(name)
        # Read with no unit of work open: on SQLite one holds the write lock from its first
        # statement, and a slow PDF would keep the app and the scheduler from writing.
        received = read_invoice(path.read_bytes(), path.name, ocr=OCR)
        with session_scope() as session:
            outcome = take_invoice(session, _cli_actor(session, args.as_user), received, channel="cli")
        failed += outcome.status == "failed"
        print(f"{path.name}: {outcome.message}" + "".join(f"\n  - {p}" for p in outcome.problems))
    return 1 if failed else 0


def _cmd_setting(args: argparse.Namespace) -> int:
    import json

    from vrm_dashboard.db.engine import session_scope
    from vrm_dashboard.services.platform import settings as app_settings
    from vrm_dashboard.services.platform.actors import Actor, act_as

    with session_scope() as session:
        act_as(session, Actor.system("cli"))
        organization = getattr(args, "organization", None)
        if args.value is None:
            keys = [args.key] if args.key else sorted(app_settings.DEFAULTS)
            for key in keys:
                if key not in app_settings.DEFAULTS:
                    print(f"Unknown setting {key}; known: {', '.join(sorted(app_settings.DEFAULTS))}", file=sys.stderr)
                    return 1
                print(f"{key} = {json.dumps(app_settings.get(session, key, organization), sort_keys=True)}")
            return 0
        try:
            value = json.loads(args.value)
        except json.JSONDecodeError:
            print("The value must be JSON, e.g. '{\"EUR\": \"5000\"}' or 25", file=sys.stderr)
            return 1
        app_settings.put(session, Actor.system("cli"), args.key, value, organization)
    print(f"{args.key} updated{f' for organization {organization}' if organization else ''}.")
    return 0


def _cmd_payouts(args: argparse.Namespace) -> int:
    from datetime import date

    from vrm_dashboard.db.engine import engine
    from vrm_dashboard.services.payouts.execution import execute_payouts
    from vrm_dashboard.services.platform.job_runs import run_recorded

    today = date.fromisoformat(args.date) if args.date else None
    run = run_recorded(engine(), "execute_payouts", lambda session: execute_payouts(session, today=today))
    print(f"Payout run {run.status}: {run.detail or ''}".rstrip())
    return 0 if run.status != "failed" else 1


def _cmd_serve(_: argparse.Namespace) -> int:
    from vrm_dashboard.launcher import serve

    return serve()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vrm", description="VRM Dashboard command line")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply all migrations")
    down = db_commands.add_parser("downgrade", help="undo migrations")
    down.add_argument("revision", nargs="?", default="-1")
    rev = db_commands.add_parser("revision", help="autogenerate a migration from the models")
    rev.add_argument("-m", "--message", required=True)
    db_commands.add_parser("check", help="fail when the models and the database differ")
    db.set_defaults(handler=_cmd_db)

    seed = commands.add_parser("seed", help="add realistic demo data")
    seed.add_argument("--vendors", type=int, default=200)
    seed.add_argument("--invoices", type=int, default=5000)
    seed.add_argument("--seed", type=int, default=1)
    seed.set_defaults(handler=_cmd_seed)

    boot = commands.add_parser("bootstrap", help="migrate, and seed demo data when empty")
    boot.add_argument("--vendors", type=int, default=200)
    boot.add_argument("--invoices", type=int, default=5000)
    boot.set_defaults(handler=_cmd_bootstrap)

    commands.add_parser("demo-logins", help="print the demo sign-ins").set_defaults(handler=_cmd_demo_logins)

    user = commands.add_parser("user", help="users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="create a user; the password is read from stdin")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", action="append", required=True,
                     help="platform_admin, admin, finance_manager, approver, viewer or vendor (repeatable)")
    add.add_argument("--vendor-code", help="for vendor users: their vendor ID")
    add.add_argument("--organization", type=int, help="organization id: the new user's organization, and where "
                     "--vendor-code is looked up (needed when that vendor ID is used in several)")
    add.set_defaults(handler=_cmd_user_add)

    key = commands.add_parser("api-key", help="create an API key for a user (printed once)")
    key.add_argument("--email", required=True)
    key.add_argument("--name", required=True)
    key.set_defaults(handler=_cmd_api_key)

    export = commands.add_parser("export", help="export invoices to Excel (.xlsx) or CSV")
    export.add_argument("output", help="file to write; .csv writes CSV, anything else Excel")
    export.add_argument("--format", choices=["xlsx", "csv"])
    export.add_argument("--all", action="store_true", help="every invoice, ignoring the filters")
    export.add_argument("--status", action="append", help="draft, pending, approved, ... (repeatable)")
    export.add_argument("--search", default="")
    export.add_argument("--vendor", default="", help="vendor ID or part of the name")
    export.add_argument("--kind", default="", choices=["", "self_generated", "parsed"])
    export.add_argument("--issued-from", default="")
    export.add_argument("--issued-to", default="")
    export.add_argument("--flag", default="", choices=["", "missing_source", "amount_mismatch", "duplicate", "none"])
    export.add_argument("--sort", default="issue_date")
    export.add_argument("--ascending", action="store_true")
    export.add_argument("--as-user", help="e-mail of the user to export as: their organization's invoices "
                                          "(default: the system, every organization's)")
    export.set_defaults(handler=_cmd_export)

    parse = commands.add_parser("parse", help="read a vendor invoice (PDF or e-invoice XML) and print its fields")
    parse.add_argument("file")
    parse.add_argument("--json", action="store_true", help="one JSON object")
    parse.set_defaults(handler=_cmd_parse)

    imports = commands.add_parser("import", help="import activity data or vendors from CSV/XLSX (all or nothing)")
    imports.add_argument("what", choices=["activity", "vendors"])
    imports.add_argument("file")
    imports.add_argument("--source", default="upload", help="activity source whose column mapping applies")
    imports.add_argument("--as-user", help="e-mail of the user to act as (default: the system)")
    imports.add_argument("--organization", type=int, help="organization id the system imports for (needed when "
                         "the source, or a vendor ID of the file, is used in several)")
    imports.set_defaults(handler=_cmd_import)

    intake = commands.add_parser("intake", help="receive vendor invoice files as drafts")
    intake.add_argument("files", nargs="+")
    intake.add_argument("--as-user", help="e-mail of the user to act as (default: the system)")
    intake.set_defaults(handler=_cmd_intake)

    setting = commands.add_parser("setting", help="show or change a business setting (JSON value)")
    setting.add_argument("key", nargs="?", help="e.g. approval.two_approver_thresholds")
    setting.add_argument("value", nargs="?", help="new JSON value; omit to show")
    setting.add_argument("--organization", type=int, help="one organization's value (default: the installation's)")
    setting.set_defaults(handler=_cmd_setting)

    payouts = commands.add_parser("payouts", help="pay cleared payouts now (what the scheduler does)")
    payout_commands = payouts.add_subparsers(dest="payouts_command", required=True)
    run = payout_commands.add_parser("run", help="one payout run: batch, submit, deliver files, confirm")
    run.add_argument("--date", help="pay what is due on this day (YYYY-MM-DD; default today)")
    payouts.set_defaults(handler=_cmd_payouts)

    commands.add_parser("scheduler", help="run the job scheduler").set_defaults(handler=_cmd_scheduler)
    commands.add_parser("serve", help="run the scheduler and the web app until Ctrl-C").set_defaults(handler=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError

    args = build_parser().parse_args(argv)
    try:
        settings()
        return args.handler(args)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except FieldErrors as exc:
        for name, message in exc.errors.items():
            print(f"{name}: {message}", file=sys.stderr)
        return 1
    except ServiceError as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
