"""Backups: a consistent snapshot of the database and the media files with a manifest of checksums,
and the restore of such a snapshot into an empty instance (CLI `flask --app wsgi backup|restore`).

A backup is one directory `pasar-backup-<UTC time>` made inside the directory given:

    manifest.json        format, app version, migration revision, database kind, times, and the
                         SHA-256 and size of every other file (written last: no manifest, no backup)
    database.sqlite3     SQLite: a copy made with SQLite's online backup API in one step, i.e. one
                         read transaction, so it is the database as of one instant while the app
                         goes on writing (WAL lets writers continue)
    database.pgdump      PostgreSQL: `pg_dump --format=custom`, which also reads one snapshot
    media/...            MEDIA_ROOT copied file by file (public WebP variants and private originals)

The database is copied first and the media afterwards: photo files are named by their content and
written before the row that refers to them is committed, so every photo the snapshot refers to is
already on disk when the media are copied (files added later are merely extra). The one gap: a photo
deleted in the seconds between the database snapshot and the copy of its file is missing from the
backup although the snapshot still lists it (the product then shows without that photo).
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from marketplace.i18n import gettext as _
from flask_migrate import upgrade as migrate_upgrade
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url

from .accounts import SYSTEM_EMAIL
from .errors import DomainError
from .extensions import db
from .pending_photos import pending_root

FORMAT = "pasar-koperasi-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
NAME_PREFIX = "pasar-backup-"
NAME_PATTERN = re.compile(r"^pasar-backup-\d{8}T\d{6}Z(-\d+)?$")
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA_DIR = "media"
CHUNK = 1024 * 1024


class BackupError(DomainError):
    """A backup cannot be made, or a backup cannot (or must not) be restored."""


@dataclass
class BackupResult:
    path: Path
    database: str
    revision: str | None
    media_files: int
    total_bytes: int


@dataclass
class RestoreResult:
    database: str
    revision: str | None
    media_files: int
    indexed: int


# --- making a backup ----------------------------------------------------------------------------

def create_backup(parent_dir: str | Path, now: datetime | None = None) -> BackupResult:
    """Write a new backup directory inside `parent_dir` (created if missing); never overwrites one."""
    media_root = Path(current_app.config["MEDIA_ROOT"]).resolve()
    parent = Path(parent_dir).resolve()
    if parent == media_root or media_root in parent.parents:
        raise BackupError(_("Write backups outside MEDIA_ROOT (%(media)s): what is there may be served to "
                            "the public.", media=str(media_root)))
    started = now or datetime.now(timezone.utc)
    parent.mkdir(parents=True, exist_ok=True)
    target = _claim_directory(parent, started)
    try:
        kind = database_kind()
        database_file = target / DATABASE_FILES[kind]
        if kind == "sqlite":
            revision = _snapshot_sqlite(database_file)
        else:
            revision = _current_revision(db.engine)
            _snapshot_postgresql(database_file)
        media_files = _copy_media(media_root, target / MEDIA_DIR)
        files = {path.relative_to(target).as_posix(): _file_entry(path) for path in _files_under(target)}
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": _app_version(),
            "migration_revision": revision,
            "database": kind,
            "database_file": database_file.name,
            "started_at": started.isoformat(),
            "finished_at": datetime.now(timezone.utc).isoformat(),
            "media_files": media_files,
            "files": files,
        }
        _write_manifest(target / MANIFEST, manifest)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return BackupResult(path=target, database=kind, revision=revision, media_files=media_files,
                        total_bytes=sum(entry["size"] for entry in files.values()))


def prune_backups(parent_dir: str | Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` finished backups in `parent_dir`; returns what was removed.

    Only directories named like a backup and holding a manifest count; nothing else is touched.
    """
    if keep < 1:
        raise BackupError(_("Keep at least one backup."))
    finished = sorted(path for path in Path(parent_dir).iterdir()
                      if path.is_dir() and NAME_PATTERN.match(path.name) and (path / MANIFEST).is_file())
    removed = finished[:-keep]
    for path in removed:
        shutil.rmtree(path)
    return removed


def _claim_directory(parent: Path, when: datetime) -> Path:
    base = NAME_PREFIX + when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        path = parent / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir(mode=0o700)  # fails if it exists: a backup is never overwritten
            return path
        except FileExistsError:
            continue
    raise BackupError(_("Could not find a free name for the backup in %(dir)s.", dir=str(parent)))


def _snapshot_sqlite(destination: Path) -> str | None:
    source_path = sqlite_path()
    if not source_path.is_file():
        raise BackupError(_("The database file %(path)s does not exist.", path=str(source_path)))
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(destination)
    try:
        # pages=-1 copies everything in one step, inside one read transaction: a consistent snapshot.
        source.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        _check_sqlite_integrity(copy, destination.name)
        return _sqlite_revision(copy)
    finally:
        copy.close()
        source.close()
        os.chmod(destination, 0o600)


def _snapshot_postgresql(destination: Path) -> None:
    conninfo, env = _libpq_connection()
    _run_tool("pg_dump", ["--format=custom", "--no-password", f"--file={destination}", f"--dbname={conninfo}"], env)
    os.chmod(destination, 0o600)


def _copy_media(media_root: Path, destination: Path) -> int:
    """Copy MEDIA_ROOT file by file, keeping modes; files deleted meanwhile, half-written temporary
    files (`.tmp-*`) and photos kept for a form's next submit (private/pending, gone within hours) are skipped."""
    count = 0
    if not media_root.is_dir():
        return 0
    pending = pending_root(media_root)
    for source in sorted(media_root.rglob("*")):
        if source.is_symlink() or not source.is_file() or source.name.startswith(".tmp-") or pending in source.parents:
            continue
        target = destination / source.relative_to(media_root)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            _copy_file(source, target)
        except FileNotFoundError:  # removed since the listing (a photo deleted meanwhile)
            continue
        count += 1
    return count


def _copy_file(source: Path, target: Path) -> None:
    with open(source, "rb") as src, open(target, "xb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
    shutil.copystat(source, target)


def _write_manifest(path: Path, manifest: dict) -> None:
    """Everything else is flushed to disk first (one sync rather than one per file), then the
    manifest, which marks the backup as finished, is written and renamed into place."""
    os.sync()
    tmp = path.with_name(".manifest.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# --- checking a backup --------------------------------------------------------------------------

def verify_backup(backup_dir: str | Path) -> dict:
    """Read the manifest and check every file's size and SHA-256; returns the manifest.

    Refuses (BackupError naming the file) a missing, damaged or unlisted file.
    """
    root = Path(backup_dir)
    manifest_path = root / MANIFEST
    if not root.is_dir():
        raise BackupError(_("%(path)s is not a directory.", path=str(root)))
    if not manifest_path.is_file():
        raise BackupError(_("%(path)s has no manifest.json: it is not a backup, or the backup did not finish.",
                            path=str(root)))
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = manifest["files"]
        kind = manifest["database"]
    except (ValueError, KeyError, TypeError):
        raise BackupError(_("%(file)s is damaged.", file=MANIFEST)) from None
    if manifest.get("format") != FORMAT or not isinstance(files, dict) or kind not in DATABASE_FILES:
        raise BackupError(_("%(file)s is not the manifest of a Pasar Koperasi backup.", file=MANIFEST))
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise BackupError(_("This backup was made by a newer version of the app; upgrade the app first."))
    if DATABASE_FILES[kind] not in files:
        raise BackupError(_("%(file)s is missing.", file=DATABASE_FILES[kind]))
    for name, expected in sorted(files.items()):
        if not isinstance(expected, dict):
            raise BackupError(_("%(file)s is damaged.", file=MANIFEST))
        path = _inside(root, name)
        if not path.is_file():
            raise BackupError(_("%(file)s is missing.", file=name))
        if _file_entry(path) != {"sha256": expected.get("sha256"), "size": expected.get("size")}:
            raise BackupError(_("%(file)s is damaged: its checksum does not match the manifest.", file=name))
    for path in _files_under(root):
        name = path.relative_to(root).as_posix()
        if name != MANIFEST and name not in files:
            raise BackupError(_("%(file)s is not listed in the manifest.", file=name))
    return manifest


def _inside(root: Path, name: str) -> Path:
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or ".." in parts:
        raise BackupError(_("%(file)s is not a safe file name.", file=name))
    return root.joinpath(*parts)


# --- restoring ----------------------------------------------------------------------------------

def restore_backup(backup_dir: str | Path, rebuild_index: Callable[[], int], force: bool = False) -> RestoreResult:
    """Check the backup, then put its database and media into this instance and rebuild the search
    index with `rebuild_index` (returns how many documents it indexed).

    Refuses when this instance's database already has data, unless `force` (then everything in the
    database is replaced; media files with the same name are overwritten, others are left).
    """
    root = Path(backup_dir)
    manifest = verify_backup(root)
    kind = database_kind()
    if manifest["database"] != kind:
        raise BackupError(_("This backup holds a %(backup)s database, but this instance uses %(here)s.",
                            backup=manifest["database"], here=kind))
    _check_revision_known(manifest.get("migration_revision"))
    if not force and database_has_data(db.engine):
        raise BackupError(_("The database of this instance already has data. Restore only into an empty "
                            "instance, or add --force to replace everything in it."))
    db.session.remove()
    db.engine.dispose()
    database_file = root / DATABASE_FILES[kind]
    if kind == "sqlite":
        _restore_sqlite(database_file)
    else:
        # One transaction: the target's tables are dropped and the backup's created, or nothing changes.
        conninfo, env = _libpq_connection()
        _run_tool("pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                                 "--exit-on-error", "--no-password", f"--dbname={conninfo}", str(database_file)], env)
    db.engine.dispose()
    media_files = _restore_media(root, sorted(name for name in manifest["files"] if name.startswith(MEDIA_DIR + "/")))
    migrate_upgrade()  # a backup from an older version is brought to this version's schema
    db.session.remove()
    return RestoreResult(database=kind, revision=manifest.get("migration_revision"), media_files=media_files,
                         indexed=rebuild_index())


def _restore_sqlite(database_file: Path) -> None:
    target_path = sqlite_path()
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{database_file}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        _check_sqlite_integrity(source, database_file.name)  # before the target is touched
        source.backup(target, pages=-1)  # replaces the whole target database in one transaction
        target.execute("PRAGMA journal_mode=WAL")
        _check_sqlite_integrity(target, str(target_path))
    finally:
        target.close()
        source.close()


def _restore_media(root: Path, names: list[str]) -> int:
    media_root = Path(current_app.config["MEDIA_ROOT"])
    for name in names:
        source = _inside(root, name)
        target = media_root.joinpath(*Path(name).parts[1:])
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(".tmp-restore-" + target.name)
        tmp.unlink(missing_ok=True)
        _copy_file(source, tmp)  # keeps the mode: public variants 0644, originals 0600
        os.replace(tmp, target)
    os.sync()
    return len(names)


def _check_revision_known(revision: str | None) -> None:
    if revision is None:
        return
    scripts = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(_("This backup was made by a newer version of the app (database revision "
                            "%(revision)s); upgrade the app first.", revision=revision))


# --- shared helpers -----------------------------------------------------------------------------

def database_kind() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE_FILES:
        raise BackupError(_("Backups support SQLite and PostgreSQL, not %(name)s.", name=name))
    return name


def database_has_data(engine: Engine) -> bool:
    """True when any table other than Alembic's own holds a row (a migrated, empty database has none;
    the system user that migration 0008 creates and the cache token of migration 0021 do not count)."""
    quote = engine.dialect.identifier_preparer.quote
    names = [name for name in inspect(engine).get_table_names() if name not in ("alembic_version", "cache_generations")]
    with engine.connect() as conn:
        for name in names:
            where = " WHERE email IS NULL OR email <> :system" if name == "users" else ""
            if conn.execute(text(f"SELECT 1 FROM {quote(name)}{where} LIMIT 1"),
                            {"system": SYSTEM_EMAIL} if where else {}).first():
                return True
    return False


def sqlite_path() -> Path:
    database = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not database or database == ":memory:":
        raise BackupError(_("An in-memory SQLite database cannot be backed up or restored."))
    return Path(database)


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def _current_revision(engine: Engine) -> str | None:
    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _check_sqlite_integrity(conn: sqlite3.Connection, name: str) -> None:
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:  # e.g. "database disk image is malformed", "file is not a database"
        result = str(exc)
    if result != "ok":
        raise BackupError(_("The SQLite integrity check of %(file)s failed: %(result)s", file=name, result=result))


def _libpq_connection() -> tuple[str, dict]:
    """The configured database as a libpq URI without the password, which goes in PGPASSWORD
    (a password on the command line would show in `ps`)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def find_pg_tool(name: str) -> str:
    """pg_dump / pg_restore: from PG_BIN_DIR if set, else Debian's newest /usr/lib/postgresql/*/bin
    (a newer client can read an older server, not the reverse), else the PATH."""
    configured = current_app.config.get("PG_BIN_DIR")
    if configured:
        candidates = [os.path.join(configured, name)]
    else:
        versioned = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
        candidates = sorted(versioned, key=_version_key, reverse=True) + [shutil.which(name) or ""]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(_("%(tool)s was not found. Install the PostgreSQL client programs (on Debian: apt-get "
                        "install postgresql-client) or set PG_BIN_DIR to the directory that holds them.",
                        tool=name))


def _version_key(path: str) -> tuple[int, ...]:
    match = re.search(r"/postgresql/([\d.]+)/", path)
    return tuple(int(part) for part in match.group(1).split(".") if part) if match else (0,)


def _run_tool(name: str, args: list[str], env: dict) -> None:
    result = subprocess.run([find_pg_tool(name), *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(_("%(tool)s failed: %(error)s", tool=name,
                            error=(result.stderr or result.stdout).strip()[-2000:]))


def _files_under(root: Path) -> list[Path]:
    """Every file of a backup except its manifest."""
    skip = {root / MANIFEST, root / ".manifest.tmp"}
    return sorted(path for path in root.rglob("*") if path.is_file() and path not in skip)


def _file_entry(path: Path) -> dict:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def _app_version() -> str:
    try:
        return metadata.version("pasar-koperasi")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"
