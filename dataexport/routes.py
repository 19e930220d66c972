"""The export page and its download (pengurus and pengawas)."""
from __future__ import annotations

import os

import click
from flask import Blueprint, Response, redirect, render_template, stream_with_context, url_for
from marketplace.i18n import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField

from marketplace.cooperative import current_cooperative
from marketplace.forms import select_choices
from marketplace.models import ROLE_PENGAWAS, ROLE_PENGURUS
from marketplace.security import roles_required
from marketplace.text import slugify
from marketplace.timeutil import utcnow

from . import export, services

bp = Blueprint("dataexport", __name__, template_folder="templates", cli_group=None)


class ExportForm(FlaskForm):
    format = SelectField(_l("Format"), choices=select_choices([("xlsx", _l("One Excel workbook (XLSX)")),
                                                               ("zip", _l("A ZIP of CSV files"))]))


@bp.get("/admin/ekspor")
@roles_required(ROLE_PENGURUS, ROLE_PENGAWAS)
def export_page():
    return render_template("dataexport/export.html", form=ExportForm(), parts=export.PARTS)


@bp.post("/admin/ekspor")
@roles_required(ROLE_PENGURUS, ROLE_PENGAWAS)
def download():
    """A POST, not a GET: it writes the audit event "downloaded the cooperative's data" (who, when, from
    where) before it streams, and CSRF keeps another site from starting it."""
    form = ExportForm()
    if not form.validate_on_submit():
        return redirect(url_for("dataexport.export_page"))
    fmt = form.format.data
    services.record_export(current_user, fmt)
    coop = current_cooperative()
    name = coop.name if coop else "Pasar Koperasi"
    made_at = utcnow()
    filename = f"{slugify(name) or 'koperasi'}-data-{made_at:%Y%m%d-%H%M}.{fmt}"
    if fmt == "zip":
        body, mimetype = stream_with_context(export.csv_zip_chunks(name, made_at)), "application/zip"
        headers = {}
    else:
        path = export.workbook_file(name, made_at)
        body = export.file_chunks(path)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        headers = {"Content-Length": str(os.path.getsize(path))}
    response = Response(body, mimetype=mimetype, headers={
        **headers, "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
    if fmt == "xlsx":  # also when the body was never started (a dropped connection)
        response.call_on_close(lambda: export.remove_file(path))
    return response


@bp.cli.command("export-data")
@click.argument("target", type=click.Path(dir_okay=False, writable=True))
def export_data_command(target: str):
    """Write the full export to TARGET (.xlsx: the workbook; .zip: the CSV files), e.g. for a very large
    cooperative or a nightly copy; written in the audit log like a download."""
    fmt = target.rsplit(".", 1)[-1].lower()
    if fmt not in services.FORMATS:
        raise click.ClickException("TARGET must end in .xlsx or .zip")
    services.record_export(None, fmt)
    coop = current_cooperative()
    name, made_at = (coop.name if coop else "Pasar Koperasi"), utcnow()
    if fmt == "zip":
        with open(target, "wb") as out:
            for chunk in export.csv_zip_chunks(name, made_at):
                out.write(chunk)
    else:
        export.write_workbook(target, name, made_at)
    click.echo(f"Wrote {target} ({os.path.getsize(target):,} bytes).")
