"""Folder and file primitives that never follow a symbolic link harborctl did not expect.

A local user who can plant a link where harborctl creates a folder or writes a file could make
it chown, chmod, write or delete elsewhere. Every path below a *root* (a folder the operator
named: the project folder, data_volume, secretkey_path, log_location) is therefore checked
component by component with ``lstat``, and modes and owners are changed through a descriptor
opened with ``O_NOFOLLOW``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from harborctl.errors import FilesystemError

DEFAULT_DIR_MODE = 0o755
_NOFOLLOW_DIR = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC


def root_of(path: Path, roots: Iterable[Path]) -> Path:
    """The deepest root that holds ``path`` (or is it); its parent folder when none does."""
    # Compared by parts: ``r in path.parents`` builds a Path per ancestor, and this runs for
    # every planned file and folder (it was a tenth of the unit suite's time).
    holders = [r for r in roots if path.parts[:len(r.parts)] == r.parts]
    return max(holders, key=lambda r: len(r.parts)) if holders else path.parent


def _link_error(path: Path, root: Path) -> FilesystemError:
    try:
        target = f" (to {os.readlink(path)})"
    except OSError:
        target = ""
    return FilesystemError(
        f"{path} is a symbolic link{target}: harborctl creates and writes only real folders "
        f"under {root}",
        hint="replace the link by a real folder (move its content there), or point harbor.cfg "
             "at the real folder",
    )


def check_no_links(path: Path, root: Path) -> None:
    """Refuse a symbolic link (or a non-folder) anywhere from below ``root`` down to ``path``.

    ``root`` itself may be a link: the operator chose it by name in harbor.cfg."""
    if path == root:
        return
    relative = path.relative_to(root)
    current = root
    for part in relative.parts:
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return  # the rest will be created by harborctl itself
        except OSError as exc:
            raise FilesystemError(f"cannot inspect {current}: {exc.strerror}") from exc
        if stat.S_ISLNK(info.st_mode):
            raise _link_error(current, root)
        if current != path and not stat.S_ISDIR(info.st_mode):
            raise FilesystemError(f"{current} is not a folder, but harborctl needs one there",
                                  hint="move it away and run again")


def _mkdir_one(path: Path, mode: int) -> None:
    """Create one folder with exactly ``mode``: made private first, so that a umask of 000 never
    lets it be writable by others, not even for an instant."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return
    except OSError as exc:
        raise FilesystemError(f"cannot create the folder {path}: {exc.strerror}",
                              hint="check the parent folder exists and is writable") from exc
    set_dir_mode_owner(path, mode, None)


def missing_folders(path: Path) -> list[Path]:
    """``path`` and those of its parents that do not exist yet, deepest first."""
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if os.path.lexists(folder):
            break  # its parents exist too
        missing.append(folder)
    return missing


def make_dirs(path: Path, root: Path, mode: int = DEFAULT_DIR_MODE) -> None:
    """Create ``path`` and its missing parents (0755; ``mode`` for ``path`` itself), refusing
    links below ``root``. Parents above ``root`` are created 0755 when missing."""
    check_no_links(path, root)
    missing = missing_folders(path)
    if not missing:
        return
    for folder in reversed(missing):
        _mkdir_one(folder, mode if folder == path else DEFAULT_DIR_MODE)
    check_no_links(path, root)  # a link planted meanwhile is caught before anything is written


def set_dir_mode_owner(path: Path, mode: int | None, owner: tuple[int, int] | None) -> bool:
    """Give a folder its mode and owner through a descriptor that refuses links.

    Returns False when the folder is not ours to change (not root, another owner)."""
    try:
        fd = os.open(path, _NOFOLLOW_DIR)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise FilesystemError(
                f"{path} is not a real folder (a symbolic link or a file): harborctl will not "
                "change its mode or owner",
                hint="replace it by a real folder and run again") from exc
        raise FilesystemError(f"cannot open the folder {path}: {exc.strerror}") from exc
    try:
        info = os.fstat(fd)
        if owner is not None and (info.st_uid, info.st_gid) != owner:
            os.fchown(fd, *owner)
        if mode is not None and stat.S_IMODE(info.st_mode) != mode:
            os.fchmod(fd, mode)
    except PermissionError:
        return False
    except OSError as exc:
        raise FilesystemError(f"cannot set the mode or owner of {path}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    return True


class Symlink:
    """What ``read_no_follow`` returns for a link: its content is never read."""


SYMLINK = Symlink()


def read_no_follow(path: Path) -> bytes | Symlink | None:
    """A regular file's bytes, ``SYMLINK`` for a link (never followed), None when absent."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return SYMLINK
        if exc.errno == errno.EISDIR:
            raise FilesystemError(f"{path} is a folder where harborctl writes a file",
                                  hint="move it away and run again") from exc
        raise FilesystemError(f"cannot read {path}: {exc.strerror}") from exc
    with contextlib.closing(os.fdopen(fd, "rb")) as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FilesystemError(f"{path} is not a regular file where harborctl writes one",
                                  hint="move it away and run again")
        return handle.read()


def mode_no_follow(path: Path) -> int | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return None if stat.S_ISLNK(info.st_mode) else stat.S_IMODE(info.st_mode)
