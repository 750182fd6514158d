"""``ExtractionRunCompletion``: the step that waits for runs, a child of the run or group it awaits.

An :class:`~datagol_pulumi.ExtractionRun` (or group) that waits for completion declares one: the
run's create returns once DataGOL answered, so the engine records its request ids in the stack's
state at once, and the completion then waits for them (lifecycle rules:
:mod:`datagol_pulumi.completion`). To the program the run still means "finished": its ``urn``
resolves, and so ``depends_on=[run]`` lets a dependent go, only once the completion has
finished, and its ``status``, ``message``, ``error``, ``finished_at`` and ``duration_seconds``
are the completion's.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.resource import DependencyResource

from .completion import RECORDED_KEYS
from .operations import NAMES_SECRET_KEY, URN_KEY
from .outputs import joined, run_urn, secrecy_of, untrack_own_outputs
from .provider import ExtractionRunCompletionProvider
from .provider_resource import chooses_provider, implicit_provider
from .secrecy import MASKED_VALUES

COMPLETION_TYPE = "pulumi-python:dynamic/datagol:ExtractionRunCompletion"
#: Run outputs that the completion's result replaces once it has awaited the run.
FINISHED_OUTPUTS = ("status", "message", "error", "finished_at", "duration_seconds")


class ExtractionRunCompletion(
    pulumi.dynamic.Resource, module="datagol", name="ExtractionRunCompletion"
):
    """Waits until DataGOL reports the runs in ``runs`` finished; never triggers."""

    runs: pulumi.Output[dict[str, dict[str, Any]]]
    """Per run key ("" for an ExtractionRun): its request ids and, once awaited, its final
    ``status``, ``message``, ``finished_at`` and ``duration_seconds``."""
    max_concurrency: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        runs: pulumi.Input[Mapping[str, Any]],
        max_concurrency: pulumi.Input[int] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        masked_values: pulumi.Input[Mapping[str, Any]] | None = None,
    ) -> None:
        """``masked_values``: per run key, the fragments its messages mask, when ``runs`` does
        not carry them (a secret input of its own; never among the outputs)."""
        props = {
            "runs": runs,
            "max_concurrency": max_concurrency,
            # Where the wait's progress is shown, and whether it may name the runs' keys.
            URN_KEY: run_urn(resource_name, COMPLETION_TYPE, opts),
            NAMES_SECRET_KEY: secrecy_of(runs),
        }
        if masked_values is not None:
            props["masked_values"] = masked_values
        super().__init__(ExtractionRunCompletionProvider(), resource_name, props, opts)
        untrack_own_outputs(self)


def may_wait(value: Any) -> bool:
    """Whether a ``wait_for_completion`` input may turn out true (an Output may)."""
    return value is not None and value is not False


def target_of(run: pulumi.CustomResource) -> pulumi.Output[dict[str, Any]]:
    """What a completion needs of an ExtractionRun: outputs of the run, hence after it.

    Without its ``masked_values`` (see :func:`masked_values_of`): a secret joined in would make
    the whole target secret, and with it the status the completion reports for the run.
    """
    return after(run, joined({key: getattr(run, key) for key in RECORDED_KEYS}))


def masked_values_of(run: pulumi.CustomResource) -> pulumi.Output[dict[str, Any]]:
    """The run's ``masked_values`` (a secret) as a completion's input of that name."""
    masked: pulumi.Output[Any] = getattr(run, MASKED_VALUES)
    return after(run, masked.apply(lambda values: {"": values or []}))


def after(resource: pulumi.CustomResource, value: pulumi.Output[Any]) -> pulumi.Output[Any]:
    """``value``, depending on ``resource`` by its own urn (call before :func:`finish_with`).

    The SDK awaits the urn of each resource an input depends on, and the urn that
    :func:`finish_with` gives a run waits for its completion: the completion depends instead on
    a stand-in holding the run's real urn, so the engine still knows the dependency (for
    ``--target-dependents``, and the order of a destroy).
    """
    urn = resource.urn

    async def resources() -> set[pulumi.Resource]:
        known = await urn.future()
        return {DependencyResource(known)} if known else set()

    return pulumi.Output(resources(), value.future(), value.is_known(), value.is_secret())


def completion_options(
    owner: pulumi.CustomResource, opts: pulumi.ResourceOptions | None
) -> pulumi.ResourceOptions:
    """The options of the completion that ``owner`` (a run or group, declared with ``opts``)
    waits by: a child of ``owner``, served by its provider.

    As a child its URN holds the owner's type, so it can share no URN with any resource a
    program declares beside it (a run and a group named alike once had one completion URN).
    Until 0.3.0 it stood beside its owner, under the same parent: aliased to that URN, an
    existing completion keeps its state and nothing is sent. Call before :func:`finish_with`.
    """
    parent = opts.parent if opts else None
    ours = pulumi.ResourceOptions(
        parent=own_urn_stand_in(owner),
        provider=opts.provider if opts else None,
        providers=opts.providers if opts else None,
        aliases=[pulumi.Alias(parent=parent or pulumi.ROOT_STACK_RESOURCE)],
    )
    if not chooses_provider(opts):
        ours.provider = implicit_provider()
    return ours


def own_urn_stand_in(owner: pulumi.CustomResource) -> pulumi.CustomResource:
    """A shallow copy of ``owner`` that keeps the urn it has now, to parent its completion.

    The SDK awaits a parent's urn before it registers a child, and :func:`finish_with` makes
    the owner's urn wait for the completion: with the owner itself as the parent, each would
    wait for the other. The copy shares everything else the SDK reads of a parent (providers,
    protect, transformations, its set of children).
    """
    return copy.copy(owner)


def finish_with(resource: pulumi.CustomResource, completion: ExtractionRunCompletion) -> None:
    """Make ``resource`` mean "finished" to the program: its urn resolves once the completion
    has, so ``depends_on=[resource]`` (which waits for the urn) waits for the runs to end."""
    urn = resource.urn
    # The SDK keeps `urn` in the instance dict behind a read-only property; it resolved the
    # run's own urn future already, so replacing the Output changes only what others await.
    resource.__dict__["urn"] = joined({"run": urn, "completion": completion.urn}).apply(
        lambda v: v["run"]
    )


def finished(run_value: Any, result: Mapping[str, Any] | None, name: str) -> Any:
    """A run output once awaited: the completion's value where it has one."""
    if not result or not result.get("awaited"):
        return run_value
    value = result.get(name)
    if name == "error":
        return value or run_value
    return run_value if value in (None, "") else value
