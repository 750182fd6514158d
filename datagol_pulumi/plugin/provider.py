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
from collections.abc import Mapping
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

from ..config import NAMESPACE, STACK_SCOPE_KEY
from ..errors import ConfigurationError
from ..properties import CONFIG
from ..provider import (
    SECRET_KEYS_KEY,
    URN_KEY,
    ClientProvider,
    ExtractionRunGroupProvider,
    ExtractionRunProvider,
)
from ..runs import failure_of_operation
from ..validation import changed_properties
from ..wire import plain
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


def failure_reasons(group: bool, new: Mapping[str, Any], old: Mapping[str, Any]) -> list[str]:
    """The failures a create or update just recorded (the rule both faces share), per run."""
    if not group:
        error = failure_of_operation(plain(new), plain(old))
        return [error] if error else []
    before = plain(old).get("results") or {}
    return [
        f"{key}: {error}"
        for key, run in sorted((plain(new).get("results") or {}).items())
        if (error := failure_of_operation(plain(run), before.get(key) or {}))
    ]


def _stack(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<type>::<name>: the journal of triggers in flight is
    # scoped by stack, as the dynamic face scopes it ("<project>/<stack>" here: no org in a URN).
    parts = urn.split("::")
    return f"{parts[1]}/{parts[0].rsplit(':', 1)[-1]}" if len(parts) > 2 else ""


class DataGolProvider(Provider):
    """``datagol``: configuration, ExtractionRun and ExtractionRunGroup."""

    def __init__(self) -> None:
        self._runs = ExtractionRunProvider()
        self._groups = ExtractionRunGroupProvider()
        self._config: dict[str, Any] = {}
        self._scoped = False

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
        self._config = config
        self._configure_faces()
        # Secrets arrive as secrets: outputs that echo them are sent back as secrets.
        return ConfigureResponse(accept_secrets=True, supports_preview=False)

    def _configure_faces(self) -> None:
        # Both faces read settings the same way: config.Settings.load, then DATAGOL_* env.
        shared = SimpleNamespace(config=self._config)
        try:
            for face in (self._runs, self._groups):
                face.configure(shared)  # type: ignore[arg-type]
        except ConfigurationError as exc:
            raise ConfigurationError(translate.camel_text(str(exc))) from None

    def _face(self, urn: str) -> ClientProvider:
        kind = urn.split("::")[2] if urn.count("::") >= 3 else ""
        face = {RUN_TOKEN: self._runs, GROUP_TOKEN: self._groups}.get(kind.rsplit("$", 1)[-1])
        if face is None:
            raise ValueError(f"unknown resource type {kind!r}; served: {RUN_TOKEN}, {GROUP_TOKEN}")
        if not self._scoped and _stack(urn):
            # The stack is known from the first URN, not at configure: configure again with it.
            self._config[STACK_SCOPE_KEY] = _stack(urn)
            self._configure_faces()
            self._scoped = True
        return face

    def _is_group(self, urn: str) -> bool:
        return self._face(urn) is self._groups

    def _in(self, urn: str, props: Mapping[str, PropertyValue]) -> dict[str, Any]:
        if not self._is_group(urn):
            return translate.run_in(props)
        values = translate.group_in(props)
        secret = translate.secret_runs(props)
        if secret:
            values[SECRET_KEYS_KEY] = secret  # the dynamic face then keeps those results secret
        return values

    def _out(
        self, urn: str, values: Mapping[str, Any], secret: set[str]
    ) -> dict[str, PropertyValue]:
        if self._is_group(urn):
            return translate.group_out(values, secret)
        return translate.run_out(values, secret)

    async def check(self, request: CheckRequest) -> CheckResponse:
        face = self._face(request.urn)
        result = face.check({}, self._in(request.urn, request.new_inputs))
        failures = [
            CheckFailure(translate.camel_path(f.property), translate.camel_text(f.reason))
            for f in result.failures or []
        ]
        inputs = {k: v for k, v in (result.inputs or {}).items() if not k.startswith("__")}
        secret = translate.secret_names(request.new_inputs)
        return CheckResponse(inputs=self._out(request.urn, inputs, secret), failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        face = self._face(request.urn)
        olds = self._in(request.urn, request.old_state)
        news = self._in(request.urn, request.new_inputs)
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
        props = {**self._in(request.urn, request.properties), URN_KEY: request.urn}
        result = await asyncio.to_thread(face.create, props)
        secret = translate.secret_names(request.properties)
        outs = self._out(request.urn, result.outs or {}, secret)
        reasons = failure_reasons(self._is_group(request.urn), result.outs or {}, {})
        if reasons:
            raise RunFailed(result.id, outs, reasons)
        return CreateResponse(resource_id=result.id, properties=outs)

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        face = self._face(request.urn)
        olds = self._in(request.urn, request.olds)
        news = {**self._in(request.urn, request.news), URN_KEY: request.urn}
        result = await asyncio.to_thread(face.update, request.resource_id, olds, news)
        secret = translate.secret_names(request.news)
        outs = self._out(request.urn, result.outs or {}, secret)
        reasons = failure_reasons(self._is_group(request.urn), result.outs or {}, olds)
        if reasons:
            raise RunFailed(request.resource_id, outs, reasons)
        return UpdateResponse(properties=outs)

    async def read(self, request: ReadRequest) -> ReadResponse:
        face = self._face(request.urn)
        if not request.properties:
            # `pulumi import`: Poll Status tells a run's status, not the workspace, extraction,
            # element and mode that made it, so an imported run could not be compared with
            # the program's, and the next `up` would trigger it again (a paid job).
            raise ConfigurationError(
                f"{request.urn.rsplit('::', 1)[-1]}: importing an extraction run (request id "
                f"{request.resource_id}) is not supported: DataGOL does not say which inputs "
                "started it. Declare the run in the program instead; with the same inputs it is "
                "triggered once, by the next `pulumi up`"
            )
        props = self._in(request.urn, request.properties)
        result = await asyncio.to_thread(face.read, request.resource_id, props)
        secret = translate.secret_names(request.properties)
        return ReadResponse(
            resource_id=result.id,
            properties=self._out(request.urn, result.outs or {}, secret),
            inputs=request.inputs,
        )

    async def delete(self, request: DeleteRequest) -> None:
        # A finished extraction cannot be undone; the run only leaves the stack.
        return None
