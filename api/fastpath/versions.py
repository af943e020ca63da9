"""The releases the accelerator was tested with, and which installed ones are not among them.

The accelerator reads FastAPI's and Starlette's internals and writes what Pydantic would
write: any other release may have moved them. Only this module is read to decide, so that
nothing private is imported before the versions are known to fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

# Each library the accelerator depends on the inside of, and its tested release series.
TESTED: Mapping[str, tuple[str, ...]] = {
    "fastapi": ("0.165",),
    "starlette": ("1.10",),
    "pydantic": ("2.14",),  # pins pydantic-core exactly: its bytes are what the writer matches
}


def _series(release: str) -> str:
    """'0.165.2' → '0.165': a patch release keeps internals; a minor one may not."""
    return ".".join(release.split(".")[:2])


def installed() -> dict[str, str]:
    found = {}
    for name in TESTED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def untested(releases: Mapping[str, str] | None = None) -> list[str]:
    """'fastapi 0.166.0 (tested: 0.165)' for each library outside its tested series."""
    releases = installed() if releases is None else releases
    return [
        f"{name} {releases.get(name, 'not installed')} (tested: {', '.join(series)})"
        for name, series in TESTED.items()
        if _series(releases.get(name, "")) not in series
    ]
