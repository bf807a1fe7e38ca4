"""Locate data-set files locally, or download them into the user cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pooch

from .._validate import as_path

ENV_VAR = "STMIN_DATA_DIR"


@dataclass(frozen=True)
class DataFile:
    """One file of a data set.

    Attributes
    ----------
    relpath
        Location under a data folder (the layout of the project's shared data folder).
    url
        Public URL it is downloaded from; ``None`` when there is no public download.
    note
        Extra advice appended to the error raised when the file cannot be found.
    """

    relpath: str
    url: str | None = None
    note: str = ""


def data_root(path: str | os.PathLike | None) -> Path | None:
    """Return the data folder: ``path``, else ``$STMIN_DATA_DIR``, else ``None`` (download).

    A folder that is given must exist: a typo in ``path=`` or in the environment variable
    raises here rather than starting a download.
    """
    if path is not None:
        root, source = as_path(path, "path"), "`path=`"
    elif os.environ.get(ENV_VAR):
        root, source = Path(os.environ[ENV_VAR]).expanduser(), f"${ENV_VAR}"
    else:
        return None
    if root.exists() and not root.is_dir():
        raise ValueError(
            f"the data folder {str(root)!r} (set by {source}) is a file, not a folder."
        )
    if not root.is_dir():
        raise FileNotFoundError(
            f"the data folder {str(root)!r} (set by {source}) does not exist. Pass the folder "
            "that holds the data sets (e.g. `path='shared/data'`), or leave `path=None` (and "
            f"${ENV_VAR} unset) to download the files."
        )
    return root


@contextmanager
def reading(file: Path, what: str) -> Iterator[None]:
    """Report any failure to read or parse ``file`` as a ``ValueError`` that names the file.

    Corrupt, truncated or unreadable files, and files of another layout (a missing column,
    dataset or key), otherwise surface as errors of h5py, pandas, gzip or PIL.
    """
    try:
        yield
    except (ValueError, FileNotFoundError) as err:
        if str(file) in str(err):  # already names the file (raised by stmin)
            raise
        raise _unreadable(file, what, err) from None
    except Exception as err:  # h5py, pandas, gzip, PIL, anndata: all mean "cannot read it"
        raise _unreadable(file, what, err) from None


def _unreadable(file: Path, what: str, err: Exception) -> ValueError:
    detail = str(err).splitlines()[0] if str(err) else ""
    return ValueError(
        f"cannot read {what} from {str(file)!r} ({type(err).__name__}: {detail}). The file is "
        "corrupt, incomplete or not in the expected layout: delete it and download it again, "
        "or replace it with the original file."
    )


def cache_dir() -> Path:
    """Folder that downloaded files are cached in (``pooch.os_cache("stmin")``)."""
    return Path(pooch.os_cache("stmin"))


def _download(url: str, dest: Path) -> None:
    """Download ``url`` to ``dest``; the source publishes no checksum, so none is checked."""
    pooch.retrieve(url, known_hash=None, fname=dest.name, path=dest.parent, progressbar=False)


def _existing(folder: Path, relpath: str) -> Path | None:
    """``folder/relpath``, or its gzip-compressed ``.gz`` twin, if either exists."""
    for candidate in (folder / relpath, folder / f"{relpath}.gz"):
        if candidate.is_file():
            return candidate
        if candidate.is_dir():
            raise ValueError(
                f"{str(candidate)!r} is a folder, but the data file {relpath} is expected there; "
                "move the folder away and place the file itself."
            )
    return None


def locate(file: DataFile, path: str | os.PathLike | None) -> Path | None:
    """Return the local copy of ``file`` (in the data folder, else the cache) or ``None``."""
    root = data_root(path)
    return _existing(root if root is not None else cache_dir(), file.relpath)


def fetch(file: DataFile, path: str | os.PathLike | None, *, optional: bool = False) -> Path | None:
    """Return the local path of ``file``, downloading it into the cache when no folder is set.

    Parameters
    ----------
    file
        The file wanted.
    path
        Data folder passed by the caller; ``None`` falls back to ``$STMIN_DATA_DIR`` and then to
        downloading into :func:`cache_dir`.
    optional
        With a data folder set, return ``None`` instead of raising when the file is missing.

    Raises
    ------
    FileNotFoundError
        When the file is missing from the data folder, or cannot be downloaded. The message
        names the file, the full path to place it at, and its public URL.
    """
    found = locate(file, path)
    if found is not None:
        return found
    root = data_root(path)
    url = f"from {file.url}" if file.url else "(no public download exists)"
    note = f" {file.note}" if file.note else ""
    if root is not None:
        if optional:
            return None
        source = "`path=`" if path is not None else f"${ENV_VAR}"
        raise FileNotFoundError(
            f"{file.relpath} not found in the data folder {root} (set by {source}). "
            f"Expected it at {root / file.relpath}; it can be obtained {url}.{note}"
        )
    dest = cache_dir() / file.relpath
    if file.url is None:
        raise FileNotFoundError(
            f"{file.relpath} is needed but has no public download.{note} Place it at {dest}, "
            f"or pass `path=` / set ${ENV_VAR} to a folder holding it at <folder>/{file.relpath}."
        )
    try:
        _download(file.url, dest)
    except OSError as err:
        raise FileNotFoundError(
            f"could not download {file.relpath} from {file.url} ({err}). Download it by hand and "
            f"place it at {dest}, or pass `path=` / set ${ENV_VAR} to a folder holding it at "
            f"<folder>/{file.relpath}.{note}"
        ) from err
    return dest
