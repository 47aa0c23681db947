"""What builds a family's models, as a digest: part of a training run's identity, so that a plugin
that re-registers a family under a built-in name, or an edit of the code that builds it, retrains
its runs instead of mixing two architectures under one name."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import marshal
from pathlib import Path

from . import get


def build_source(name: str) -> Path | None:
    """The file that holds family `name`'s build function (a plugin's file, or the built-in
    module), without importing it; None for one defined where no file holds it."""
    build = get(name).build
    if isinstance(build, str):
        spec = importlib.util.find_spec(build.split(":")[0])
        return Path(spec.origin) if spec and spec.origin else None
    try:
        source = inspect.getsourcefile(build)
    except TypeError:
        return None
    return Path(source) if source and Path(source).is_file() else None


def build_digest(name: str) -> str:
    """A short digest of the family's name, build function and the file that holds it."""
    family, source = get(name), build_source(name)
    h = hashlib.blake2b(digest_size=8)
    build = family.build if isinstance(family.build, str) else f"{family.build.__module__}:{family.build.__qualname__}"
    h.update(f"{family.name}|{build.split(':')[-1]}|".encode())
    if source is not None:
        h.update(source.read_bytes())
    elif hasattr(family.build, "__code__"):  # defined in a session: its compiled code stands in for a file
        h.update(marshal.dumps(family.build.__code__))
    return h.hexdigest()
