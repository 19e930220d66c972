"""Backups (`flask backup` / `flask restore`): a consistent snapshot taken while kasir keep selling,
restored into a second, empty instance (a new SQLite file or a second PostgreSQL database)."""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from catalog.search import SearchFilters, reindex_all, search_products
from consignment import services as gerai
from consignment.models import KIND_SALE, ConsignmentLot, Sale, SaleLine, StockMovement
from consignment.services import LineRequest
from marketplace.backup import (MANIFEST, BackupError, create_backup, database_has_data, find_pg_tool, prune_backups,
                                restore_backup, verify_backup)
from marketplace.extensions import db
from marketplace.models import User


def _media_files(root) -> dict[str, tuple[str, int]]:
    root = Path(root)
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode & 0o777)
            for p in root.rglob("*") if p.is_file()}


def _sell_until_stopped(app, kasir_id, lot_id, stop, committed, errors):
    """A kasir at the counter: one sale after another through the real service, noting when each
    sale's commit had returned."""
    with app.app_context():
        try:
            kasir = db.session.get(User, kasir_id)
            while not stop.is_set():
                sale = gerai.record_counter_sale(kasir, [LineRequest(lot_id, 1)], "cash")
                committed.append((sale.id, time.monotonic()))
        except Exception as exc:  # pragma: no cover - reported by the test
            errors.append(exc)
        finally:
            db.session.remove()


def _wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def shop(app, make_user, make_product, make_lot):
    """A kasir and a lot of 2000 units of a product with two photos (8 media files). Ids only: an
    object of this instance's session must not be loaded while the second instance is current."""
    product = make_product(name="Amplang Tenggiri Khas Kotabaru", photos=2)
    lot = make_lot(product=product, quantity=2000)
    return {"kasir": make_user("kasir").id, "lot": lot.id, "product": product.id}


def test_backup_taken_during_counter_sales_restores_every_sale_committed_before_it(app, shop, second_instance,
                                                                                      tmp_path):
    committed, errors, stop = [], [], threading.Event()
    writer = threading.Thread(target=_sell_until_stopped,
                              args=(app, shop["kasir"], shop["lot"], stop, committed, errors))
    writer.start()
    try:
        _wait_for(lambda: len(committed) >= 10)
        began = time.monotonic()
        result = create_backup(tmp_path / "backups")
        ended = time.monotonic()
        sold_by_then = len(committed)
        _wait_for(lambda: len(committed) >= sold_by_then + 5)  # the kasir kept selling after the backup
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not errors, errors
    before = {sale_id for sale_id, at in committed if at < began}
    all_ids = [sale_id for sale_id, _ in committed]
    assert any(at > ended for _, at in committed)

    with second_instance.app_context():
        restored = restore_backup(result.path, rebuild_index=reindex_all)
        assert restored.media_files == 8
        restored_ids = set(db.session.scalars(select(Sale.id)))
        # Every sale committed before the backup began is there, and the backup is one instant of
        # the ledger: the first n sales, none half-written.
        assert before <= restored_ids
        assert restored_ids == set(all_ids[:len(restored_ids)])
        lot = db.session.get(ConsignmentLot, shop["lot"])
        sold = db.session.scalar(select(func.coalesce(func.sum(SaleLine.quantity), 0)))
        assert sold == len(restored_ids)
        assert db.session.scalar(select(func.count(StockMovement.id)).where(StockMovement.kind == KIND_SALE)) == sold
        assert gerai.on_hand(lot.id) == 2000 - sold
        for sale in db.session.scalars(select(Sale)):
            assert sale.total == sum(line.line_total for line in sale.lines) == lot.unit_price
        if db.engine.dialect.name == "sqlite":
            path = make_url(second_instance.config["SQLALCHEMY_DATABASE_URI"]).database
            with sqlite3.connect(path) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _media_files(second_instance.config["MEDIA_ROOT"]) == _media_files(app.config["MEDIA_ROOT"])


def test_manifest_lists_version_revision_kind_and_a_checksum_of_every_file(app, shop, tmp_path):
    kept = Path(app.config["MEDIA_ROOT"]) / "private" / "pending" / ("k" * 32)  # a photo kept for a form: not backed up
    kept.mkdir(parents=True)
    (kept / "original").write_bytes(b"x")
    result = create_backup(tmp_path / "backups")
    manifest = json.loads((result.path / MANIFEST).read_text())
    assert manifest["database"] == db.engine.dialect.name
    assert manifest["migration_revision"] == db.session.scalar(text("SELECT version_num FROM alembic_version"))
    assert manifest["app_version"] and manifest["started_at"] <= manifest["finished_at"]
    on_disk = {p.relative_to(result.path).as_posix() for p in result.path.rglob("*") if p.is_file()} - {MANIFEST}
    assert set(manifest["files"]) == on_disk and len(on_disk) == 9  # the database and 8 media files
    for name, entry in manifest["files"].items():
        data = (result.path / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert os.stat(result.path).st_mode & 0o777 == 0o700  # member bank details, password hashes


def test_search_finds_products_after_restore_into_a_migrated_empty_instance(app, shop, second_instance, tmp_path):
    result = create_backup(tmp_path / "backups")
    with second_instance.app_context():
        from flask_migrate import upgrade

        upgrade()  # an admin who ran `flask db upgrade` on the new machine first
        assert search_products("amplang", SearchFilters()).total == 0
        restored = restore_backup(result.path, rebuild_index=reindex_all)
        assert restored.indexed == 1
        page = search_products("amplang tengiri", SearchFilters())
        assert page.ids == [shop["product"]]


@pytest.mark.parametrize("damage", ["media", "database"])
def test_restore_refuses_a_damaged_backup_and_names_the_file(app, shop, second_instance, tmp_path, damage):
    result = create_backup(tmp_path / "backups")
    manifest = json.loads((result.path / MANIFEST).read_text())
    if damage == "media":
        name = next(n for n in sorted(manifest["files"]) if n.startswith("media/public/"))
    else:
        name = manifest["database_file"]
    path = result.path / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    path.write_bytes(bytes(data))
    with second_instance.app_context():
        with pytest.raises(BackupError) as refused:
            restore_backup(result.path, rebuild_index=reindex_all)
        assert name in refused.value.message
        assert not database_has_data(db.engine)
    assert not list(Path(second_instance.config["MEDIA_ROOT"]).rglob("*.webp"))


def test_restore_refuses_a_file_missing_from_or_added_to_the_backup(app, shop, tmp_path):
    result = create_backup(tmp_path / "backups")
    (result.path / "media" / "extra.txt").write_text("not from the backup")
    with pytest.raises(BackupError) as refused:
        verify_backup(result.path)
    assert "media/extra.txt" in refused.value.message
    (result.path / "media" / "extra.txt").unlink()
    original = next((result.path / "media" / "private").rglob("*.jpg"))
    original.unlink()
    with pytest.raises(BackupError) as refused:
        verify_backup(result.path)
    assert original.relative_to(result.path).as_posix() in refused.value.message


def test_restore_refuses_a_target_that_has_data_unless_forced(app, shop, second_instance, tmp_path):
    gerai.record_counter_sale(db.session.get(User, shop["kasir"]), [LineRequest(shop["lot"], 2)], "cash")
    result = create_backup(tmp_path / "backups")
    # Into the live instance itself: refused, nothing changed.
    refused = app.test_cli_runner().invoke(args=["restore", str(result.path)])
    assert refused.exit_code != 0 and "--force" in refused.output
    gerai.record_counter_sale(db.session.get(User, shop["kasir"]), [LineRequest(shop["lot"], 1)], "cash")
    assert db.session.scalar(select(func.count(Sale.id))) == 2

    runner = second_instance.test_cli_runner()
    with second_instance.app_context():  # the CLI runs in the current app's context
        first = runner.invoke(args=["restore", str(result.path)])
        assert first.exit_code == 0, first.output
        assert "indexed 1 published products" in first.output
        again = runner.invoke(args=["restore", str(result.path)])
        assert again.exit_code != 0 and "--force" in again.output
        gerai.record_counter_sale(db.session.get(User, shop["kasir"]), [LineRequest(shop["lot"], 5)], "qris")
        assert db.session.scalar(select(func.count(Sale.id))) == 2
        forced = runner.invoke(args=["restore", "--force", str(result.path)])
        assert forced.exit_code == 0, forced.output
        db.session.remove()
        assert db.session.scalar(select(func.count(Sale.id))) == 1
        assert gerai.on_hand(shop["lot"]) == 1998


def test_a_forced_restore_that_fails_leaves_the_target_as_it_was(app, shop, second_instance, tmp_path):
    result = create_backup(tmp_path / "backups")
    with second_instance.app_context():
        restore_backup(result.path, rebuild_index=reindex_all)
        gerai.record_counter_sale(db.session.get(User, shop["kasir"]), [LineRequest(shop["lot"], 3)], "cash")
        db.session.remove()
    # A database file that is broken although its checksum matches (as if the dump itself had failed).
    manifest_path = result.path / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    database = result.path / manifest["database_file"]
    database.write_bytes(database.read_bytes()[: database.stat().st_size // 2])
    data = database.read_bytes()
    manifest["files"][database.name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    manifest_path.write_text(json.dumps(manifest))
    with second_instance.app_context():
        with pytest.raises(BackupError):
            restore_backup(result.path, rebuild_index=reindex_all, force=True)
        db.session.remove()
        assert db.session.scalar(select(func.count(Sale.id))) == 1
        assert gerai.on_hand(shop["lot"]) == 1997


def test_backup_cli_never_overwrites_and_keeps_the_newest(app, shop, tmp_path):
    backups = tmp_path / "backups"
    same_second = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
    first, second = create_backup(backups, now=same_second), create_backup(backups, now=same_second)
    assert first.path != second.path and verify_backup(first.path) and verify_backup(second.path)
    runner = app.test_cli_runner()
    outputs = [runner.invoke(args=["backup", str(backups), "--keep", "2"]) for _ in range(2)]
    assert all(o.exit_code == 0 for o in outputs), outputs[0].output
    assert "Backup written to" in outputs[0].output and "Removed old backup" in outputs[0].output
    left = sorted(p.name for p in backups.iterdir())
    assert len(left) == 2 and first.path.name not in left and second.path.name not in left
    (backups / "notes.txt").write_text("mine")
    assert prune_backups(backups, 1) and (backups / "notes.txt").exists()


def test_backup_refuses_a_folder_inside_media_root(app, tmp_path):
    with pytest.raises(BackupError):
        create_backup(Path(app.config["MEDIA_ROOT"]) / "public" / "backups")
    assert not (Path(app.config["MEDIA_ROOT"]) / "public" / "backups").exists()


def test_a_missing_pg_dump_is_named_in_a_clear_error(app, tmp_path):
    app.config["PG_BIN_DIR"] = str(tmp_path)
    with pytest.raises(BackupError) as missing:
        find_pg_tool("pg_dump")
    assert "pg_dump" in missing.value.message and "PG_BIN_DIR" in missing.value.message
