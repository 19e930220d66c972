"""Reading ZIP archives someone uploaded (a ZIP of product photos, an XLSX workbook) without trusting them.

`open_checked` looks at the whole central directory before a single byte is decompressed and refuses:
a file that is no ZIP, too many entries, names that leave the folder (absolute, `..`, drive letters,
backslashes), symbolic links, encrypted entries, archives inside the archive, declared sizes over the total
budget, and entries that expand far more than any photo or spreadsheet does (a zip bomb).
`read_entry` then reads one entry in chunks and counts the bytes that actually come out, against the
entry's own budget and the archive's running total: a header that lies about its size is caught too
(Python's zipfile never returns more than the declared size, and refuses the data with a CRC error when
more follows). Every refusal is an `ArchiveRefused` whose message says what is wrong, in the reader's
language.
"""
from __future__ import annotations

import re
import zlib
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO

from marketplace.i18n import gettext as _

from .errors import DomainError

CHUNK = 64 * 1024
# Names and first bytes of archives: an archive inside the archive is refused, not opened.
NESTED_SUFFIXES = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".jar", ".apk", ".cab",
                   ".iso")
NESTED_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b", b"BZh", b"\xfd7zXZ",
                b"(\xb5/\xfd")
_DRIVE = re.compile(r"^[A-Za-z]:")
# An entry larger than this may be checked for its ratio: tiny files compress oddly but cannot hurt.
_RATIO_FLOOR = 1024 * 1024


class ArchiveRefused(DomainError):
    """The archive as a whole is refused (hostile or damaged); nothing in it is used."""


class EntryTooLarge(DomainError):
    """One entry is over its own budget; the rest of the archive may still be used."""


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int
    max_total_bytes: int  # uncompressed, all entries together
    max_entry_bytes: int  # uncompressed, one entry
    max_ratio: int | None = 100  # uncompressed / compressed of an entry over 1 MB; None: not checked
    allow_nested: bool = False


@dataclass
class CheckedZip:
    """An archive that passed `open_checked`, with the budget still left for reading it."""

    archive: zipfile.ZipFile
    label: str
    limits: ZipLimits
    read_bytes: int = 0
    entries: dict[str, zipfile.ZipInfo] = field(default_factory=dict)  # name -> entry (files only)

    def close(self) -> None:
        self.archive.close()


def _mb(n: int) -> int:
    return max(1, n // (1024 * 1024))


def _bomb(label: str) -> ArchiveRefused:
    return ArchiveRefused(_("%(label)s is refused: it unpacks to far more data than it holds (a zip bomb).",
                            label=label))


def _unsafe_name(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or _DRIVE.match(name) or "\\" in name or "\x00" in name:
        return True
    return any(part == ".." for part in PurePosixPath(name).parts)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def open_checked(source: str | BinaryIO, label: str, limits: ZipLimits) -> CheckedZip:
    """Open an uploaded ZIP and check its directory; ArchiveRefused says why it is refused."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ArchiveRefused(_("%(label)s is not a ZIP file (or it is damaged).", label=label))
    try:
        return _check(archive, label, limits)
    except BaseException:
        archive.close()
        raise


def _check(archive: zipfile.ZipFile, label: str, limits: ZipLimits) -> CheckedZip:
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise ArchiveRefused(_("%(label)s has too many files (%(n)d); at most %(max)d.", label=label, n=len(infos),
                               max=limits.max_entries))
    checked, declared = CheckedZip(archive, label, limits), 0
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            raise ArchiveRefused(_("%(label)s is refused: the name “%(name)s” points outside the archive's folder.",
                                   label=label, name=name[:100]))
        if _is_symlink(info):
            raise ArchiveRefused(_("%(label)s is refused: “%(name)s” is a link, not a file.", label=label,
                                   name=name[:100]))
        if info.flag_bits & 0x1:
            raise ArchiveRefused(_("%(label)s is refused: “%(name)s” is protected with a password.", label=label,
                                   name=name[:100]))
        if info.is_dir():
            continue
        if not limits.allow_nested and name.lower().endswith(NESTED_SUFFIXES):
            raise ArchiveRefused(_("%(label)s is refused: it holds another archive (“%(name)s”). Put the photos "
                                   "themselves in one ZIP.", label=label, name=name[:100]))
        declared += info.file_size
        if declared > limits.max_total_bytes:
            raise ArchiveRefused(_("%(label)s unpacks to more than %(max)d MB; send fewer files at a time.",
                                   label=label, max=_mb(limits.max_total_bytes)))
        if (limits.max_ratio is not None and info.file_size > _RATIO_FLOOR
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
            raise _bomb(label)
        checked.entries[name] = info
    return checked


def read_entry(checked: CheckedZip, info: zipfile.ZipInfo, entry_label: str | None = None) -> bytes:
    """The bytes of one entry, counted as they come out: EntryTooLarge when the entry alone is over its
    budget; ArchiveRefused when the archive's total is exceeded, it holds another archive or is damaged."""
    limits, label = checked.limits, entry_label or info.filename
    too_large = EntryTooLarge(_("%(label)s: the file is too large; the limit is %(max)d MB.", label=label,
                                max=_mb(limits.max_entry_bytes)))
    if info.file_size > limits.max_entry_bytes:
        raise too_large
    chunks, size = [], 0
    try:
        with checked.archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                checked.read_bytes += len(chunk)
                if checked.read_bytes > limits.max_total_bytes:
                    raise _bomb(checked.label)
                if size > limits.max_entry_bytes:
                    raise too_large
                if not chunks and not limits.allow_nested and chunk.startswith(NESTED_MAGIC):
                    raise ArchiveRefused(_("%(label)s is refused: it holds another archive (“%(name)s”). Put the "
                                           "photos themselves in one ZIP.", label=checked.label,
                                           name=info.filename[:100]))
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise ArchiveRefused(_("%(label)s is damaged (%(error)s).", label=checked.label, error=str(exc)[:100]))
    return b"".join(chunks)
