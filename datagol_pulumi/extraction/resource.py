"""``Extraction`` and ``get_extractions``: the Python face of extraction configurations."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import pulumi
import pulumi.dynamic

from ..config import KEYS
from ..operations import URN_KEY, Context
from ..provider_resource import chooses_provider, implicit_provider
from ..resource import pickler_kept, resource_args, run_urn
from .body import SERVER_OUTPUTS
from .lifecycle import lookup
from .provider import ExtractionProvider

EXTRACTION_TYPE = "pulumi-python:dynamic/datagol:Extraction"


@dataclass
class ExtractionArgs:
    """The inputs of an :class:`Extraction`, named after DataGOL's ExtractionDTO fields.

    Nested objects are written in DataGOL's JSON names (``createNewWorkbook``, ``uiDataType``)
    and sent as written.
    """

    workspace_id: pulumi.Input[str]
    title: pulumi.Input[str]
    extraction_mode: pulumi.Input[str]
    element_type: pulumi.Input[str]
    element_id: pulumi.Input[str]
    output_configuration: pulumi.Input[Mapping[str, Any]]
    primary_key_column_id: pulumi.Input[Sequence[str]]
    element_ids: pulumi.Input[Sequence[str]] | None = None
    input_table_id: pulumi.Input[str] | None = None
    column_configuration: pulumi.Input[Sequence[Mapping[str, Any]]] | None = None
    advanced_schema: pulumi.Input[Mapping[str, Any]] | None = None
    llm_model: pulumi.Input[str] | None = None
    store_extracted_data: pulumi.Input[bool] | None = None
    schedule_type: pulumi.Input[str] | None = None
    schedule: pulumi.Input[Mapping[str, Any]] | None = None


class Extraction(pulumi.dynamic.Resource, module="datagol", name="Extraction"):
    """One DataGOL extraction configuration: created by POST, changed by one PUT, deleted on
    destroy; a change of workspace or element makes a new one (a new ``extraction_id``).

    An input left out keeps the value DataGOL chose; its output shows that value.
    """

    workspace_id: pulumi.Output[str]
    title: pulumi.Output[str]
    extraction_mode: pulumi.Output[str]
    element_type: pulumi.Output[str]
    element_id: pulumi.Output[str]
    element_ids: pulumi.Output[list[str]]
    input_table_id: pulumi.Output[str]
    output_configuration: pulumi.Output[dict[str, Any]]
    primary_key_column_id: pulumi.Output[list[str]]
    column_configuration: pulumi.Output[list[dict[str, Any]]]
    advanced_schema: pulumi.Output[dict[str, Any]]
    llm_model: pulumi.Output[str]
    store_extracted_data: pulumi.Output[bool]
    schedule_type: pulumi.Output[str]
    schedule: pulumi.Output[dict[str, Any]]
    extraction_id: pulumi.Output[str]
    """DataGOL's id (its integer id as a string): the ``extraction_id`` of an ExtractionRun."""
    company_id: pulumi.Output[str]
    create_date: pulumi.Output[str]
    modi_date: pulumi.Output[str]
    """When DataGOL last changed it: in a run's ``triggers``, re-runs the run on each change."""
    created_by: pulumi.Output[str]
    modified_by: pulumi.Output[str]
    last_extracted_at: pulumi.Output[str]
    is_index_created: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        args: ExtractionArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        """``Extraction(name, ExtractionArgs(...), opts)`` or ``Extraction(name, title=...,
        ..., opts=opts)``."""
        ext_args, opts = resource_args(ExtractionArgs, resource_name, args, opts, kwargs)
        props: dict[str, Any] = {f.name: getattr(ext_args, f.name) for f in fields(ext_args)}
        props.update(dict.fromkeys(SERVER_OUTPUTS))
        # Names the resource in the import command a refused create gives.
        props[URN_KEY] = run_urn(resource_name, EXTRACTION_TYPE, opts)
        ours = pulumi.ResourceOptions()
        if not chooses_provider(opts):
            ours.provider = implicit_provider()
        with pickler_kept():
            super().__init__(
                ExtractionProvider(),
                resource_name,
                props,
                pulumi.ResourceOptions.merge(opts, ours),
            )
        # From the Pulumi id, which the engine keeps known in the preview of an update (it shows
        # a dynamic resource's other outputs as unknown there): runs of this configuration are
        # then not shown replaced, or billed, when only the configuration changes.
        self.extraction_id = self.id.apply(
            lambda ident: ident.rsplit("/", 1)[-1] if ident else ident
        )


def get_extractions(
    workspace_id: pulumi.Input[str],
    element_type: pulumi.Input[str],
    element_id: pulumi.Input[str],
    title: pulumi.Input[str] | None = None,
) -> pulumi.Output[list[dict[str, Any]]]:
    """The configurations of one element (those titled ``title``, if given), each a dict named
    as an Extraction's outputs (``extraction_id``, ``title``, ``modi_date``, ...).

    Sent from the program with the ``datagol:*`` config (then ``DATAGOL_*`` variables), in
    preview too: a stack can run a configuration made in DataGOL's UI by its title.
    """
    config = {
        key.config_key: value
        for key in KEYS
        if (value := pulumi.runtime.config.get_config(key.config_key)) is not None
    }

    def fetch(values: list[Any]) -> Any:
        context = Context(config)

        def call() -> list[dict[str, Any]]:
            try:
                return lookup(context.client(), *values)
            finally:
                context.client().close()

        return asyncio.get_running_loop().run_in_executor(None, call)

    return pulumi.Output.all(workspace_id, element_type, element_id, title).apply(fetch)
