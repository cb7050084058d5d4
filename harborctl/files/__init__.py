"""The only package that writes to disk: atomic single files, the all-or-nothing apply of a
deployment, folder modes and owners that never follow links, the one-writer lock, and the
deletions an operator asks for."""

from harborctl.files.atomic import write_file_atomic
from harborctl.files.lock import folder_lock
from harborctl.files.tree import ApplyResult, Change, apply_deployment, plan_changes

__all__ = ["ApplyResult", "Change", "apply_deployment", "folder_lock", "plan_changes",
           "write_file_atomic"]
