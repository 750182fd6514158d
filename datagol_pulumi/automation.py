"""Seeding from the Automation API, all or nothing: preview first, update only when it passed.

Automation API's ``stack.up()`` runs ``pulumi up --skip-preview``: there is no preview to stop
at, so an update over ``datagol:maxTriggersPerUpdate`` sends runs up to the limit while the
engine still checks the later ones, then fails, and leaves the environment half seeded (the
next ``up`` sends the rest). :func:`preview_then_up` runs ``stack.preview()`` first, where the
providers count every run of the update and refuse it over the limit (as any other check that
fails) before any request; only a preview that passed is followed by ``stack.up()``.

See docs/cost.md ("Seeding from the Automation API") for a recipe over many environments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi import automation as auto

from .errors import DataGolError

#: The lines of a failed preview's output kept in :class:`PreviewFailed`'s message.
KEPT_LINES = 20


class PreviewFailed(DataGolError):
    """The preview failed (e.g. over the limit, a bad setting or input): nothing was sent.

    ``output`` is everything the preview printed; the message keeps its errors.
    """

    def __init__(self, stack_name: str, output: str) -> None:
        self.output = output
        lines = [line.rstrip() for line in output.splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()] or lines
        shown = "\n".join(errors[-KEPT_LINES:])
        super().__init__(
            f"The preview of stack {stack_name} failed, so up was not run and no DataGOL "
            f"run was sent:\n{shown}"
        )


def preview_then_up(
    stack: auto.Stack,
    *,
    on_output: Callable[[str], Any] | None = None,
    on_event: Callable[[Any], Any] | None = None,
    **up_options: Any,
) -> auto.UpResult:
    """``stack.preview()``, then ``stack.up()`` only if the preview passed.

    Over the limit (or on any other failure the preview finds) it raises
    :class:`PreviewFailed` and sends nothing. ``on_output`` and ``on_event`` receive both
    commands' progress; ``up_options`` go to ``stack.up`` (e.g. ``parallel``, ``message``).
    The two are two deployments: a change made between them (to the program, the config or
    DataGOL) is not covered by the preview, but the update still counts its own runs and
    refuses them over the limit.
    """
    printed: list[str] = []

    def output(line: str) -> None:
        printed.append(line)
        if on_output is not None:
            on_output(line)

    try:
        stack.preview(on_output=output, on_event=on_event)
    except auto.CommandError as exc:
        raise PreviewFailed(stack.name, "\n".join(printed) or str(exc)) from None
    return stack.up(on_output=on_output, on_event=on_event, **up_options)
