"""The plugin's provider: each gRPC method translates, then calls the dynamic face's method.

Lifecycle decisions (what re-triggers, what is carried over, what is recorded) are made once, by
:class:`~datagol_pulumi.provider.ExtractionRunProvider` and
:class:`~datagol_pulumi.provider.ExtractionRunGroupProvider` on top of
:mod:`datagol_pulumi.runs`; this class adds only what a packaged provider can do besides: a
detailed diff, and failing a create or update whose run failed while keeping its outputs in
state (``ErrorResourceInitFailed``), which a dynamic resource has to do from the program.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from ..config import NAMESPACE, STACK_KEY
from ..errors import ConfigurationError
from ..properties import CONFIG
from ..provider import ClientProvider, ExtractionRunGroupProvider, ExtractionRunProvider
from ..validation import changed_properties, plain
from . import translate
from .schema import GROUP_TOKEN, RUN_TOKEN, schema_json


class RunFailed(Exception):
    """A create or update that recorded a failed run: the engine keeps ``outputs`` in state and
    fails the deployment (sent to it as ``ErrorResourceInitFailed``)."""

    def __init__(self, resource_id: str, outputs: dict[str, PropertyValue], reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.resource_id = resource_id
        self.outputs = outputs
        self.reasons = reasons


def _stack(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<type>::<name>; the journal keys triggers by stack.
    parts = urn.split("::")
    return f"{parts[1]}/{parts[0].rsplit(':', 1)[-1]}" if len(parts) > 2 else ""


def _failed(outs: Mapping[str, Any], before: Mapping[str, Any] | None) -> str | None:
    """The error of a run this very operation triggered, if it failed."""
    if not outs.get("error"):
        return None
    if before is not None and outs.get("triggered_at") == before.get("triggered_at"):
        return None  # an earlier failure, carried over: reported by the `up` that had it
    return str(outs["error"])


class DataGolProvider(Provider):
    """``datagol``: configuration, ExtractionRun and ExtractionRunGroup."""

    def __init__(self) -> None:
        self._runs = ExtractionRunProvider()
        self._groups = ExtractionRunGroupProvider()
        self._faces: dict[str, ClientProvider] = {RUN_TOKEN: self._runs, GROUP_TOKEN: self._groups}

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema_json())

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        known = {p.camel for p in CONFIG} | {"version"}
        failures = [
            CheckFailure(k, f"unknown setting {NAMESPACE}:{k}; valid: {', '.join(sorted(known))}")
            for k in request.new_inputs
            if k not in known
        ]
        return CheckResponse(inputs=request.new_inputs, failures=failures)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        config = {k: v for k, v in request.variables.items() if k.startswith(f"{NAMESPACE}:")}
        for key, value in request.args.items():
            raw = translate.to_python(value)
            if raw is not None and key != "version" and not isinstance(raw, dict):
                config[f"{NAMESPACE}:{key}"] = raw
        # Both faces read settings the same way (config.Settings.load, then DATAGOL_* env).
        shared = SimpleNamespace(config=config)
        try:
            for face in self._faces.values():
                face.configure(shared)  # type: ignore[arg-type]
        except ConfigurationError as exc:
            raise ConfigurationError(translate.camel_text(str(exc))) from None
        # Secrets arrive unwrapped; the engine marks outputs of secret inputs secret itself.
        return ConfigureResponse(accept_secrets=False, supports_preview=False)

    def _face(self, urn: str) -> ClientProvider:
        kind = urn.split("::")[2] if urn.count("::") >= 3 else ""
        face = self._faces.get(kind.rsplit("$", 1)[-1])
        if face is None:
            raise ValueError(
                f"unknown resource type {kind!r}; this provider serves {RUN_TOKEN}, {GROUP_TOKEN}"
            )
        stack = _stack(urn)
        for each in self._faces.values():  # the journal of triggers in flight, per stack
            inputs = getattr(each, "_inputs", None)
            if inputs is not None and stack:
                inputs.setdefault(STACK_KEY, stack)
        return face

    def _in(self, urn: str) -> Callable[[Mapping[str, PropertyValue]], dict[str, Any]]:
        return translate.group_in if self._face(urn) is self._groups else translate.run_in

    def _out(self, urn: str) -> Callable[[Mapping[str, Any]], dict[str, PropertyValue]]:
        return translate.group_out if self._face(urn) is self._groups else translate.run_out

    async def check(self, request: CheckRequest) -> CheckResponse:
        face = self._face(request.urn)
        result = face.check({}, self._in(request.urn)(request.new_inputs))
        failures = [
            CheckFailure(translate.camel_path(f.property), translate.camel_text(f.reason))
            for f in result.failures or []
        ]
        return CheckResponse(inputs=self._out(request.urn)(result.inputs or {}), failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        face = self._face(request.urn)
        to_core = self._in(request.urn)
        olds, news = to_core(request.old_state), to_core(request.new_inputs)
        result = face.diff(request.resource_id, olds, news)
        detailed: dict[str, PropertyDiff] = {}
        if face is self._runs:
            # Named per property, so `pulumi preview --diff` says what re-triggers the run.
            replace, trigger, setting = changed_properties(plain(olds), plain(news))
            for name in replace + trigger + setting:
                kind = (
                    PropertyDiffKind.UPDATE_REPLACE if name in replace else PropertyDiffKind.UPDATE
                )
                detailed[translate.camel_path(name)] = PropertyDiff(kind, input_diff=True)
        return DiffResponse(
            changes=bool(result.changes),
            replaces=[translate.camel_path(p) for p in result.replaces or []],
            stables=[],
            delete_before_replace=bool(result.delete_before_replace),
            diffs=list(detailed),
            detailed_diff=detailed,
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        face = self._face(request.urn)
        props = self._in(request.urn)(request.properties)
        result = await asyncio.to_thread(face.create, props)
        outs = self._out(request.urn)(result.outs or {})
        self._raise_if_failed(request.urn, result.id, result.outs or {}, None)
        return CreateResponse(resource_id=result.id, properties=outs)

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        face = self._face(request.urn)
        to_core = self._in(request.urn)
        olds, news = to_core(request.olds), to_core(request.news)
        result = await asyncio.to_thread(face.update, request.resource_id, olds, news)
        outs = self._out(request.urn)(result.outs or {})
        self._raise_if_failed(request.urn, request.resource_id, result.outs or {}, olds)
        return UpdateResponse(properties=outs)

    def _raise_if_failed(
        self, urn: str, resource_id: str, outs: Mapping[str, Any], olds: Mapping[str, Any] | None
    ) -> None:
        if self._face(urn) is self._runs:
            error = _failed(outs, olds)
            reasons = [error] if error else []
        else:
            before = (olds or {}).get("results") or {}
            reasons = [
                f"{key}: {error}"
                for key, run in sorted((outs.get("results") or {}).items())
                if (error := _failed(run, before.get(key) if olds is not None else None))
            ]
        if reasons:
            raise RunFailed(resource_id, self._out(urn)(outs), reasons)

    async def read(self, request: ReadRequest) -> ReadResponse:
        face = self._face(request.urn)
        props = self._in(request.urn)(request.properties)
        result = await asyncio.to_thread(face.read, request.resource_id, props)
        return ReadResponse(
            resource_id=result.id,
            properties=self._out(request.urn)(result.outs or {}),
            inputs=request.inputs,
        )

    async def delete(self, request: DeleteRequest) -> None:
        # A finished extraction cannot be undone; the run only leaves the stack.
        return None
