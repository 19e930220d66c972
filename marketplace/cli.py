"""Command-line tools: `flask --app wsgi create-user|seed-demo|reindex`."""
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
        from settlement.seed import seed_settlement
        from storefront.seed import seed_microsite

        from .seed import DEMO_LOGINS, seed_demo

        created = seed_demo()
        sales = seed_gerai()
        statements = seed_settlement()
        seed_microsite()
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
