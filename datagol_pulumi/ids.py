"""Run ids (workspace, extraction, element): each is one segment of Trigger Extraction's path.

An id the path cannot carry unchanged is refused before anything is sent: percent-quoting
leaves "." and "..", which a URL normalises into another path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .wire import MAX_SAFE_INTEGER

#: What a message says instead of a value that was secret.
NOT_SHOWN = "a secret value (not shown)"

#: What a URL reads as "this folder" and "the parent folder": urllib3 and every server remove
#: such segments before routing, and percent-quoting leaves dots as they are.
_DOT_SEGMENTS = (".", "..")


def path_problem(value: str) -> str | None:
    """Why ``value`` cannot be a segment of DataGOL's URL path unchanged, or None.

    "/" and every other character are percent-quoted into the one segment (a folder path such
    as "finance/invoices 2026" is an element id); what no quoting carries is a dot segment, and
    one between slashes too ("a/../b"), which a server that decodes "%2F" before routing would
    normalise into another path. Control characters are refused as well: no id holds one, and
    servers refuse "%00" and its kin, so one is a paste mistake (a trailing newline).
    """
    if value in _DOT_SEGMENTS:
        return (
            "is a dot segment, which a URL reads as 'this' or 'the parent' folder: the request "
            "would reach another path"
        )
    if any(part in _DOT_SEGMENTS for part in value.replace("\\", "/").split("/")):
        return (
            "has a dot segment between slashes ('.' or '..'), which a URL reads as a folder "
            "step: the request could reach another path"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "contains a control character (a newline, a tab or another unprintable one)"
    return None


def check_id(
    inputs: Mapping[str, Any],
    prop: str,
    out: dict[str, Any],
    failures: list[tuple[str, str]],
    *,
    hidden: bool,
) -> None:
    """Check id ``prop`` of ``inputs``: on success ``out[prop]`` is its string, else a failure
    names the property and the fix (never the value when it was secret, ``hidden``)."""
    value = inputs.get(prop)
    if type(value) is float and value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        value = int(value)  # the engine carries 7781 as 7781.0; the id is "7781"
    if value is None or value == "":
        failures.append((prop, f"{prop} is required"))
    elif isinstance(value, bool) or not isinstance(value, (str, int)):
        got = NOT_SHOWN if hidden else repr(value)
        failures.append(
            (prop, f"{prop} must be a string (quote it if it looks like a number), got {got}")
        )
    elif (problem := path_problem(str(value))) is not None:
        what = "(a secret value, not shown)" if hidden else repr(str(value))
        failures.append(
            (
                prop,
                f"{prop} {what} {problem}; nothing was sent. Set {prop} to the id exactly as "
                "DataGOL shows it",
            )
        )
    else:
        out[prop] = str(value)
