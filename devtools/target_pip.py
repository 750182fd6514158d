"""pip as if it ran on another platform and Python: what scripts/dist downloads the plugin
archive's wheels with, and what the archive tests resolve them with.

pip's ``--platform`` and ``--python-version`` choose wheels by tag, but pip evaluates the
dependencies' markers (``grpcio>=1.75.1; python_version >= '3.14'``,
``typing-extensions; python_full_version < '3.11'``) against the interpreter running it. This
runs pip with the marker environment of the target, so each Python gets the dependencies it
needs there, and pip's own tag options for the wheels (added here, from the same target).

    python -m devtools.target_pip <os-arch> <X.Y> <pip command> [pip args...]

e.g. ``python -m devtools.target_pip linux-arm64 3.10 download --dest wheels pulumi``.
"""

from __future__ import annotations

import sys
from typing import Any

#: The platforms of the plugin archives (Pulumi's <os>-<arch> names).
TARGETS = ("linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64")
#: The Pythons of the archives: 3.10 (requires-python) to the newest release that every
#: dependency has wheels for (3.15: no orjson, December 2026).
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
#: The oldest system each archive is for: glibc 2.17 (manylinux2014: CentOS 7, Ubuntu 14.04 and
#: later) and macOS 11.0 (grpcio's oldest wheel for a Mac).
GLIBC = (2, 17)
MACOS = (11, 0)

_MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}


def platform_tags(target: str) -> list[str]:
    """pip's --platform values for ``target``, oldest first: pip prefers a wheel for an earlier
    one, so each dependency comes for the oldest system it supports, up to GLIBC or MACOS."""
    os_name, arch = target.split("-")
    if os_name == "linux":
        machine = _MACHINES[arch]
        tags = []
        # PEP 600 names, and the legacy aliases that pip does not derive from them.
        aliases = {5: "manylinux1", 12: "manylinux2010", 17: "manylinux2014"}
        for minor in range(5, GLIBC[1] + 1):
            if minor in aliases and (minor == 17 or machine == "x86_64"):
                tags.append(f"{aliases[minor]}_{machine}")
            tags.append(f"manylinux_2_{minor}_{machine}")
        return tags
    if os_name == "darwin":
        # pip expands each macosx_X_Y_<arch> to every earlier release and the fat/universal2
        # variants; x86_64 Macs run releases from 10.9 on, arm64 ones from 11.0.
        machine = "x86_64" if arch == "amd64" else "arm64"
        first = (10, 9) if machine == "x86_64" else (11, 0)
        releases = [(10, minor) for minor in range(9, 16)] + [(11, 0)]
        return [f"macosx_{a}_{b}_{machine}" for a, b in releases if first <= (a, b) <= MACOS]
    raise ValueError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")


def marker_environment(target: str, python: str) -> dict[str, str]:
    """PEP 508's marker variables as CPython ``python`` reports them on ``target``."""
    os_name, arch = target.split("-")
    linux = os_name == "linux"
    machine = _MACHINES[arch] if linux else {"amd64": "x86_64", "arm64": "arm64"}[arch]
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux" if linux else "Darwin",
        "platform_version": "",
        "python_full_version": f"{python}.0",
        "python_version": python,
        "sys_platform": "linux" if linux else "darwin",
    }


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    target, python, command, *args = argv
    environment = marker_environment(target, python)
    # pip's vendored packaging evaluates every marker through this function; it is private,
    # so a pip that no longer has it is refused rather than silently resolving for the host.
    from pip._vendor.packaging import markers

    if not callable(getattr(markers, "default_environment", None)):
        print("target_pip: this pip has no packaging.markers.default_environment", file=sys.stderr)
        return 2

    def default_environment() -> dict[str, Any]:
        return dict(environment)

    markers.default_environment = default_environment
    from pip._internal.cli.main import main as pip_main

    tags = [arg for tag in platform_tags(target) for arg in ("--platform", tag)]
    pinned = ["--implementation", "cp", "--python-version", python, *tags]
    return pip_main([command, *pinned, "--only-binary=:all:", *args])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
