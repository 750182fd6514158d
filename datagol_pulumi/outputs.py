"""Outputs that a program need not have the Pulumi SDK wait for one by one.

The SDK keeps the task behind every Output in one set, and at the end of a program
(``wait_for_rpcs``) waits for the whole set again each time any of its tasks completes: every
wake-up adds and removes a done-callback on every task still pending. Its cost grows with the
outputs pending times the completions, and a ``pulumi up`` creating 200 ExtractionRuns (about
30 attribute outputs each, resolved one run at a time as the engine creates them) spent ~20 ms
of program CPU per run there, more than the engine and the provider together (B8).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Mapping
from typing import Any

import pulumi
from pulumi.output import UNKNOWN, contains_unknowns


def untrack_own_outputs(resource: pulumi.Resource) -> None:
    """Stop the SDK from waiting for ``resource``'s own outputs (the attributes its
    registration made, its urn and id) one by one. Call it right after registering.

    Nothing else resolves them but that registration, which the SDK waits for as an RPC and
    whose failure it reports from there; an Output derived from them is tracked in their place,
    as ``Output.apply`` untracks its source. With an SDK that tracks no outputs this does
    nothing.
    """
    for value in list(vars(resource).values()):
        if not isinstance(value, pulumi.Output):
            continue
        untrack = getattr(value, "_untrack", None)
        if untrack is None:
            return
        untrack()


def joined(outputs: Mapping[str, pulumi.Output[Any]]) -> pulumi.Output[dict[str, Any]]:
    """``pulumi.Output.all(**outputs)`` for Outputs, as one task instead of three per Output.

    Known when all are, secret when any is, depending on every resource they depend on. Values
    are taken as the Outputs hold them: an Output inside one (a resource's outputs never hold
    one) is not unwrapped.
    """
    state = _Joined(dict(outputs))
    return pulumi.Output(
        _Part(state, lambda d: set().union(*(r for r, _, _, _ in d.values()))),
        _Part(state, lambda d: {k: v for k, (_, v, _, _) in d.items()}),
        _Part(state, lambda d: all(known for _, _, known, _ in d.values())),
        _Part(state, lambda d: any(secret for _, _, _, secret in d.values())),
    )


class _Joined:
    def __init__(self, outputs: dict[str, pulumi.Output[Any]]) -> None:
        self.outputs = outputs
        self.data: dict[str, tuple[set[pulumi.Resource], Any, bool, bool]] | None = None

    async def load(self) -> dict[str, tuple[set[pulumi.Resource], Any, bool, bool]]:
        # The Output's one task awaits the four parts in turn: the first one reads them all.
        if self.data is None:
            data = {}
            for key, output in self.outputs.items():
                known = await output.is_known()
                value = _value(await output.future(with_unknowns=True), known)
                data[key] = (await output.resources(), value, known, await output.is_secret())
            self.data = data
        return self.data


def _value(value: Any, known: bool) -> Any:
    # As Output.all has it: an unknown value that holds no unknown is the unknown itself.
    return value if known or contains_unknowns(value) else UNKNOWN


class _Part:
    """An awaitable, not a coroutine: if the Output's task fails (or is never run) before it
    awaits this part, no "coroutine was never awaited" warning is left behind."""

    def __init__(self, joined: _Joined, pick: Callable[[dict[str, Any]], Any]) -> None:
        self.joined, self.pick = joined, pick

    def __await__(self) -> Generator[Any, None, Any]:
        return self._value().__await__()

    async def _value(self) -> Any:
        return self.pick(await self.joined.load())


def run_urn(resource_name: str, type_: str, opts: pulumi.ResourceOptions | None) -> Any:
    """The URN the engine gives the resource, as an input: the provider's create gets none."""
    parent = opts.parent if opts else None
    if parent is None:
        # What pulumi.create_urn computes without a parent, without its four Outputs.
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{resource_name}"
    urn = pulumi.create_urn(resource_name, type_, parent=parent)
    # Without a dependency on the parent: the SDK expands a dependency on a component to its
    # children, this run among them, which would be a cycle.
    return pulumi.Output(set(), urn.future(), urn.is_known(), urn.is_secret())


def secrecy_of(value: Any) -> pulumi.Output[bool]:
    """Whether ``value`` is (or holds) a secret Output, as a plain value known at preview."""
    output = pulumi.Output.from_input(value)

    async def secret() -> bool:
        return bool(await output.is_secret())

    return pulumi.Output(set(), secret(), _done(True), _done(False))


def _done(value: bool) -> asyncio.Future[bool]:
    # A done future, not a coroutine: one never awaited warns at exit.
    future: asyncio.Future[bool] = asyncio.Future()  # on the program's loop, as the SDK's
    future.set_result(value)
    return future
