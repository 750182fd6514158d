"""The plugin face of ``datagol:index:Extraction`` and ``datagol:index:getExtractions``: each
method translates names and values, then calls :mod:`datagol_pulumi.extraction.lifecycle`."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from ..extraction import lifecycle, preview
from ..extraction.checks import check_extraction
from ..operations import Context
from ..properties import camel, snake
from . import translate


def _failures(problems: list[tuple[str, str]]) -> list[CheckFailure]:
    return [
        CheckFailure(translate.camel_path(p), translate.camel_text(reason))
        for p, reason in problems
    ]


async def check(context: Context, request: CheckRequest) -> CheckResponse:
    secret = translate.secret_names(request.new_inputs)
    values = translate.run_in(request.new_inputs)
    secret_snake = {snake(k) for k in secret}
    inputs, problems = check_extraction(values, secret_snake)
    if not problems:  # what `up`'s create would refuse, asked before it
        olds = translate.run_in(request.old_inputs) if request.old_inputs else None
        name = request.urn.rsplit("::", 1)[-1]
        problems = await asyncio.to_thread(
            preview.refusals, context, olds, inputs, name, secret_snake
        )
    return CheckResponse(inputs=translate.run_out(inputs, secret), failures=_failures(problems))


async def diff(context: Context, request: DiffRequest) -> DiffResponse:
    result = lifecycle.diff(
        translate.run_in(request.old_state), translate.run_in(request.new_inputs)
    )
    if result.changes and not result.replaces:  # a PUT: of a configuration still there?
        refusal = await asyncio.to_thread(preview.update_refusal, context, request.resource_id)
        if refusal is not None:
            raise refusal
    detailed = {
        camel(name): PropertyDiff(kind, input_diff=True)
        for names, kind in (
            (result.replaces, PropertyDiffKind.UPDATE_REPLACE),
            (result.updates, PropertyDiffKind.UPDATE),
        )
        for name in names
    }
    return DiffResponse(
        changes=result.changes,
        replaces=[camel(p) for p in result.replaces],
        stables=[],
        delete_before_replace=False,
        diffs=list(detailed),
        detailed_diff=detailed,
    )


async def create(context: Context, request: CreateRequest) -> CreateResponse:
    if request.preview:  # nothing is sent: what DataGOL keeps (left out) is unknown until `up`
        return CreateResponse(resource_id="", properties=request.properties)
    values = translate.run_in(request.properties)
    name = request.urn.rsplit("::", 1)[-1]
    recalled = functools.partial(preview.recalled, context)
    resource_id, outs = await asyncio.to_thread(
        lifecycle.create, context.client(), values, name, recalled
    )
    secret = translate.secret_names(request.properties)
    return CreateResponse(resource_id=resource_id, properties=translate.run_out(outs, secret))


async def update(context: Context, request: UpdateRequest) -> UpdateResponse:
    if request.preview:
        # The same configuration, so the same extractionId (the runs of it are not replaced);
        # DataGOL's modification date moves (left out: unknown until `up`).
        kept = {k: v for k, v in request.olds.items() if k not in ("modiDate", "modifiedBy")}
        return UpdateResponse(properties={**kept, **request.news})
    olds, news = translate.run_in(request.olds), translate.run_in(request.news)
    outs = await asyncio.to_thread(
        lifecycle.update, context.client(), request.resource_id, olds, news
    )
    secret = translate.secret_names(request.news)
    return UpdateResponse(properties=translate.run_out(outs, secret))


async def read(context: Context, request: ReadRequest) -> ReadResponse:
    """Refresh (prior inputs kept) or, with no properties, `pulumi import`: the inputs are
    then what DataGOL holds, so a program declaring them previews clean."""
    olds = translate.run_in(request.properties)
    resource_id, outs, found = await asyncio.to_thread(
        lifecycle.read, context.client(), request.resource_id, olds
    )
    if not resource_id:
        return ReadResponse(resource_id="", properties={}, inputs={})
    secret = translate.secret_names(request.properties)
    inputs = translate.run_out(found) if not request.properties else request.inputs
    return ReadResponse(
        resource_id=resource_id, properties=translate.run_out(outs, secret), inputs=inputs
    )


async def delete(context: Context, request: DeleteRequest) -> None:
    await asyncio.to_thread(lifecycle.delete, context.client(), request.resource_id)


async def get_extractions(context: Context, request: InvokeRequest) -> InvokeResponse:
    """``getExtractions(workspaceId, elementType, elementId, title?)``: the configurations of
    one element, each named as an Extraction's outputs."""
    args: dict[str, Any] = translate.run_in(request.args)
    missing = [
        CheckFailure(camel(k), f"{camel(k)} is required")
        for k in ("workspace_id", "element_type", "element_id")
        if not args.get(k)
    ]
    if missing:
        return InvokeResponse(failures=missing)
    found = await asyncio.to_thread(
        lifecycle.lookup,
        context.client(),
        str(args["workspace_id"]),
        str(args["element_type"]),
        str(args["element_id"]),
        args.get("title"),
    )
    listed = [{camel(k): v for k, v in item.items()} for item in found]
    return InvokeResponse(return_value={"extractions": translate.to_value(listed)})
