"""Checks of paths: files to read and files to write, before any work starts."""

from __future__ import annotations

import os
from pathlib import Path


def as_path(path, name: str) -> Path:
    """``path`` (a string or ``os.PathLike``, not empty) as a :class:`~pathlib.Path`."""
    if not isinstance(path, str | os.PathLike) or not os.fspath(path):
        raise ValueError(f"`{name}` must be a non-empty path (a string or Path), got {path!r}.")
    return Path(path).expanduser()


def check_input_file(path, name: str = "path", what: str = "file") -> Path:
    """Return ``path`` if it is an existing file; raise a clear error otherwise."""
    path = as_path(path, name)
    if path.is_dir():
        raise ValueError(f"the {what} {str(path)!r} (`{name}`) is a folder; give the file itself.")
    if not path.is_file():
        raise FileNotFoundError(f"the {what} {str(path)!r} (`{name}`) does not exist.")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"the {what} {str(path)!r} (`{name}`) cannot be read (permission).")
    return path


def check_input_folder(path, name: str = "path", what: str = "folder") -> Path:
    """Return ``path`` if it is an existing folder; raise a clear error otherwise."""
    path = as_path(path, name)
    if path.exists() and not path.is_dir():
        raise ValueError(f"the {what} {str(path)!r} (`{name}`) is a file, not a folder.")
    if not path.is_dir():
        raise FileNotFoundError(f"the {what} {str(path)!r} (`{name}`) does not exist.")
    return path


def check_output_file(path, name: str = "save") -> Path:
    """Return ``path`` if a file can be written there: not a folder, in an existing folder."""
    path = as_path(path, name)
    if path.is_dir():
        raise ValueError(
            f"`{name}` {str(path)!r} is a folder; give a file name (e.g. {str(path / 'out')!r})."
        )
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the folder {str(folder)!r} of `{name}` does not exist; create it first."
        )
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"the folder {str(folder)!r} of `{name}` is not writable.")
    return path
