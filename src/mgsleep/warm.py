"""Work that is the same on every start, kept between runs in the user's cache folder.

Reading and checking the evidence base and building its name index take most of the time of
a short command; their results depend only on the data files and the code that reads them.
`warm` keeps such a result under a key made from those (`digest`), so a changed file or a
new version of the program is never served a stale copy. A cache that cannot be written (a
read-only home, a full disk) costs only the time it would have saved.

The files are pickles: only this program writes them, into the user's own cache folder, and
they are read only under a key that names their content. A person who can write to that
folder can already run programs as that user.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import platformdirs

T = TypeVar("T")
CACHE_DIR_ENV = "MGSLEEP_CACHE_DIR"
# Set to "0" to read and build everything afresh (and write nothing).
CACHE_ENV = "MGSLEEP_WARM_CACHE"


def digest(parts: Iterable[bytes]) -> str:
    """A key for the content of `parts`, the Python version and the pickle format."""
    hasher = hashlib.sha256(f"{sys.version_info[:2]}-{pickle.HIGHEST_PROTOCOL}".encode())
    for part in parts:
        hasher.update(len(part).to_bytes(8, "little"))
        hasher.update(part)
    return hasher.hexdigest()[:32]


def _folder() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV) or platformdirs.user_cache_dir("mgsleep"))


def warm(kind: str, key: str, build: Callable[[], T], expected: type[T]) -> T:
    """`build()`, or the result kept from an earlier run with the same `kind` and `key`."""
    if os.environ.get(CACHE_ENV) == "0":
        return build()
    path = _folder() / f"{kind}-{key}.pickle"
    try:
        with path.open("rb") as handle:
            kept = pickle.load(handle)  # noqa: S301 - written by this program, keyed by content
        if isinstance(kept, expected):
            return kept
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        pass
    result = build()
    _keep(path, result)
    return result


def _keep(path: Path, result: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and moved into place: a reader never sees half a file.
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as handle:
            pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
        Path(handle.name).replace(path)
    except OSError:
        return
