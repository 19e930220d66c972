"""Command-line tools: `flask --app wsgi create-user|seed-demo|reindex|expire-orders|backup|restore|
purge-pending-photos`."""
from __future__ import annotations

import click
from flask import Flask

from .errors import DomainError
from .models import ROLES


def register_cli(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--name", required=True)
    @click.option("--email", default=None)
    @click.option("--phone", default=None)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def create_user_command(role, name, email, phone, password):
        """Create a staff account (pengurus, kasir, pengawas). Members are added from the admin pages."""
        from .accounts import create_user

        try:
            user = create_user(name=name, email=email, phone=phone, password=password, role=role)
        except DomainError as exc:
            raise click.ClickException(exc.message)
        click.echo(f"Created {user.role} {user.login_name} (id {user.id})")

    @app.cli.command("seed-demo")
    @click.option("--quiet", is_flag=True)
    def seed_demo_command(quiet):
        """Seed the demo cooperative (idempotent) and print the demo logins."""
        from consignment.seed import seed_gerai
        from joining.seed import seed_join_requests
        from notifications.seed import seed_notifications
        from settlement.seed import seed_settlement
        from storefront.seed import seed_microsite

        from .seed import DEMO_LOGINS, seed_demo

        created = seed_demo()
        sales = seed_gerai()
        statements = seed_settlement()
        seed_microsite()
        seed_join_requests()
        seed_notifications()
        if not quiet:
            click.echo(f"Demo data ready ({created} new products, {sales} new gerai sales, "
                       f"{statements} new statements).")
            click.echo("Demo logins (password: %s):" % DEMO_LOGINS["password"])
            for role, login in DEMO_LOGINS["accounts"]:
                click.echo(f"  {role:9} {login}")

    @app.cli.command("reindex")
    @click.option("--pending", is_flag=True, help="Only apply queued changes (for cron), not a full rebuild.")
    def reindex_command(pending):
        """Rebuild the product search index from the database."""
        from catalog.search import drain_outbox, reindex_all

        if pending:
            click.echo(f"Applied {drain_outbox(timeout=60)} queued changes.")
        else:
            click.echo(f"Indexed {reindex_all()} published products.")

    @app.cli.command("backup")
    @click.argument("directory", type=click.Path(file_okay=False))
    @click.option("--keep", type=click.IntRange(min=1), default=None,
                  help="Afterwards remove all but the newest KEEP backups in DIRECTORY.")
    def backup_command(directory, keep):
        """Write a consistent backup (database, media, manifest of checksums) into a new
        timestamped folder inside DIRECTORY, while the app keeps running."""
        from .backup import create_backup, prune_backups

        try:
            result = create_backup(directory)
            removed = prune_backups(directory, keep) if keep else []
        except DomainError as exc:
            raise click.ClickException(exc.message)
        click.echo(f"Backup written to {result.path} ({result.database} database at revision {result.revision}, "
                   f"{result.media_files} media files, {result.total_bytes / 1_000_000:.1f} MB).")
        for path in removed:
            click.echo(f"Removed old backup {path}")

    @app.cli.command("restore")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False))
    @click.option("--force", is_flag=True, help="Replace a database that already has data (everything in it is lost).")
    def restore_command(directory, force):
        """Check every checksum of the backup in DIRECTORY, restore its database and media into this
        (empty) instance, and rebuild the search index."""
        from catalog.search import reindex_all

        from .backup import restore_backup

        try:
            result = restore_backup(directory, rebuild_index=reindex_all, force=force)
        except DomainError as exc:
            raise click.ClickException(exc.message)
        click.echo(f"Restored the {result.database} database (revision {result.revision}) and "
                   f"{result.media_files} media files; indexed {result.indexed} published products.")

    @app.cli.command("purge-pending-photos")
    def purge_pending_photos_command():
        """Remove photos kept from failed forms once they are older than PENDING_PHOTO_HOURS (2)."""
        from .pending_photos import purge_all_expired

        removed = purge_all_expired()
        click.echo(f"Removed {removed} expired kept photos.")
