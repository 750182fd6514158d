"""Checks of settings that both faces make before anything is sent: the key's name (a
misspelled ``datagol:baseURL`` would leave ``baseUrl`` at its default, the production host) and
the shape of ``baseUrl`` (the client appends ``/noCo/api/...`` to it)."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from urllib.parse import urlsplit

from .errors import ConfigurationError

_NAMESPACE = "datagol"


def unknown_key_problem(name: str, known: Collection[str]) -> str | None:
    """Why ``datagol:<name>`` is none of the ``known`` settings, naming the closest one; None
    when it is one."""
    if name in known:
        return None
    by_folded = {key.lower(): key for key in known}
    closest = by_folded.get(name.lower()) or next(
        iter(difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)), None
    )
    hint = f"did you mean {_NAMESPACE}:{closest}? " if closest else ""
    return (
        f"unknown setting {_NAMESPACE}:{name}; {hint}Remove it (`pulumi config rm "
        f"{_NAMESPACE}:{name}`) and set a valid key; valid: {', '.join(sorted(known))}"
    )


def check_base_url(url: str) -> None:
    """Refuse a ``baseUrl`` that is more than scheme, host and optional port, with the fix.

    The message never quotes the whole value (it may hold user:password); the fix it suggests
    is built from the scheme, host and port alone.
    """
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    host = parts.hostname or ""
    fix = f"{parts.scheme}://{f'[{host}]' if ':' in host else host}"
    if port in (-1, 0):
        problem, fix = "has a port that is not a number from 1 to 65535", f"{fix}:<port>"
    elif parts.query or parts.fragment or url.endswith(("?", "#")):
        problem = "has a query or a fragment"
    elif parts.path.strip("/"):
        problem = "has a path (the API's paths, /noCo/api/..., are added to it)"
    else:
        return
    if port and port > 0:
        fix += f":{port}"
    raise ConfigurationError(
        f"{_NAMESPACE}:baseUrl {problem}; it is scheme, host and optional port only. Set "
        f"`pulumi config set {_NAMESPACE}:baseUrl {fix}` (or the Provider argument base_url, "
        f"or DATAGOL_BASE_URL)"
    )
