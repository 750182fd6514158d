"""The plugin's provider: each gRPC method translates, then calls :mod:`datagol_pulumi.operations`.

Lifecycle decisions (what re-triggers, what is carried over, what is recorded) are made once, in
the core that the dynamic providers call too; this class adds only what a packaged provider can
do besides: a detailed diff, and failing a create or update whose run failed while keeping its
outputs in state (``ErrorResourceInitFailed``), which a dynamic resource has to do from the
program.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
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
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from .. import bill, operations, preview_checks, waiting
from ..config import NAMESPACE, STACK_SCOPE_KEY
from ..errors import ConfigurationError, ValidationError
from ..exact import maybe_rounded
from ..operations import SECRET_KEYS_KEY, URN_KEY, Context
from ..properties import CONFIG
from ..runs import failure_of_operation
from ..secrecy import SECRET_INPUTS_KEY
from ..setting_checks import unknown_key_problem
from ..wire import plain
from . import completion, extraction, translate
from .schema import (
    COMPLETION_TOKEN,
    EXTRACTION_TOKEN,
    GET_EXTRACTIONS_TOKEN,
    GROUP_TOKEN,
    RUN_TOKEN,
    schema_json,
)

_TOKENS = (RUN_TOKEN, GROUP_TOKEN, COMPLETION_TOKEN, EXTRACTION_TOKEN)


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
    """``datagol``: configuration, ExtractionRun, ExtractionRunGroup and (plugin.completion)
    ExtractionRunCompletion."""

    def __init__(self) -> None:
        self._config: dict[str, Any] = {}
        self._context = Context()
        self._scoped = False

    async def cancel(self) -> None:
        # The engine's Cancel (Ctrl-C, and the end of every deployment): the waits in progress
        # stop and record nothing; the next `pulumi up` waits again by request id. The bill is
        # said now, while the engine still takes messages (at exit it may not).
        waiting.stop_all()
        await asyncio.to_thread(bill.say_summary)

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema_json())

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        # The rule the dynamic face's program applies (provider_resource), in the same words;
        # "version" is the engine's, not a setting.
        known = {p.camel for p in CONFIG}
        failures = [
            CheckFailure(k, problem)
            for k in request.new_inputs
            if k != "version" and (problem := unknown_key_problem(k, known))
        ]
        return CheckResponse(inputs=request.new_inputs, failures=failures)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        config = {k: v for k, v in request.variables.items() if k.startswith(f"{NAMESPACE}:")}
        for key, value in request.args.items():
            raw = translate.to_python(value)
            if raw is not None and key != "version" and not isinstance(raw, dict):
                config[f"{NAMESPACE}:{key}"] = raw
        self._config = config
        self._configure()
        # Secrets arrive as secrets: outputs that echo them are sent back as secrets. Previews
        # of create and update come here too (see _previewed): an Extraction's update keeps
        # its extractionId known in a preview, so that the runs of it are not shown replaced.
        return ConfigureResponse(accept_secrets=True, supports_preview=True)

    def _configure(self) -> None:
        # Settings are read as the dynamic face reads them: config.Settings.load, then env.
        try:
            self._context = Context(self._config)
        except ConfigurationError as exc:
            raise ConfigurationError(translate.camel_text(str(exc))) from None

    def _kind(self, urn: str) -> str:
        kind = urn.split("::")[2] if urn.count("::") >= 3 else ""
        token = kind.rsplit("$", 1)[-1]
        if token not in _TOKENS:
            served = ", ".join(_TOKENS)
            raise ValueError(f"unknown resource type {kind!r}; served: {served}")
        if not self._scoped and _stack(urn):
            # The stack is known from the first URN, not at configure: configure again with it.
            self._config[STACK_SCOPE_KEY] = _stack(urn)
            self._configure()
            self._scoped = True
        return token

    def _is_group(self, urn: str) -> bool:
        return self._kind(urn) == GROUP_TOKEN

    def _is_extraction(self, urn: str) -> bool:
        # A configuration, served by plugin.extraction: never billed, sends no trigger.
        return self._kind(urn) == EXTRACTION_TOKEN

    def _is_completion(self, urn: str) -> bool:
        # Served by plugin.completion: it only reads Poll Status, so it is never billed.
        return self._kind(urn) == COMPLETION_TOKEN

    def _in(
        self, urn: str, props: Mapping[str, PropertyValue], *, state: bool = False
    ) -> dict[str, Any]:
        if not self._is_group(urn):
            if state:  # an output of the plugin's own, recomputed by _out
                props = {k: v for k, v in props.items() if k != "completionTarget"}
            # The core keeps what is computed from these secret (secrecy.DERIVED), as it does
            # for the dynamic face, whose program names them instead of the engine.
            values = translate.run_in(props)
            values[SECRET_INPUTS_KEY] = translate.secret_inputs(props, state=state)
            return values
        values = translate.group_in(props)
        secret = translate.secret_runs(props)
        if secret:
            values[SECRET_KEYS_KEY] = secret  # the dynamic face then keeps those results secret
        return values

    def _out(
        self, urn: str, values: Mapping[str, Any], secret: set[str], *, outputs: bool = True
    ) -> dict[str, PropertyValue]:
        if self._is_group(urn):
            return translate.group_out(values, secret)
        if outputs:  # a run's outputs (not check's inputs) carry what a completion takes
            values = completion.completion_target(values, secret)
            # From a state (read), it holds a secret inside: secret there, not as a whole.
            secret = secret - {completion.COMPLETION_TARGET.camel}
        return translate.run_out(values, secret)

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        if request.tok != GET_EXTRACTIONS_TOKEN:
            raise ValueError(f"unknown function {request.tok!r}; served: {GET_EXTRACTIONS_TOKEN}")
        return await extraction.get_extractions(self._context, request)

    async def check(self, request: CheckRequest) -> CheckResponse:
        if self._is_extraction(request.urn):
            return await extraction.check(self._context, request)
        if self._is_completion(request.urn):
            return await completion.check(request)
        check = (
            operations.check_group_inputs
            if self._is_group(request.urn)
            else (operations.check_run_inputs)
        )
        values = self._in(request.urn, request.new_inputs)
        checked, problems = check(values)
        problems = [*problems, *maybe_rounded(values, group=self._is_group(request.urn))]
        failures = [
            CheckFailure(translate.camel_path(prop), translate.camel_text(reason))
            for prop, reason in problems
        ]
        if not failures:  # a new resource's bill; an existing one's is counted by diff
            group = self._is_group(request.urn)
            settings = self._context.settings
            bill.on_check(self, settings, request.urn, request.old_inputs, checked, group=group)
            problems = preview_checks.on_check(
                self._context, request.urn, request.old_inputs, checked, group=group
            )
            failures = [
                CheckFailure(translate.camel_path(prop), translate.camel_text(reason))
                for prop, reason in problems
            ]
        inputs = {k: v for k, v in checked.items() if not k.startswith("__")}
        secret = translate.secret_names(request.new_inputs)
        outs = self._out(request.urn, inputs, secret, outputs=False)
        return CheckResponse(inputs=outs, failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        if self._is_extraction(request.urn):
            return await extraction.diff(self._context, request)
        if self._is_completion(request.urn):
            return await completion.diff(request)
        group = self._is_group(request.urn)
        olds = self._in(request.urn, request.old_state, state=True)
        news = self._in(request.urn, request.new_inputs)
        result = (operations.diff_group if group else operations.diff_run)(olds, news)
        if result.changes:  # what the update sends, counted before it is sent (see bill)
            settings = self._context.settings
            bill.on_diff(self, settings, request.urn, olds, news, result.replaces, group=group)
            problems = preview_checks.on_diff(
                self._context, request.urn, olds, news, result.replaces, group=group
            )
            if problems:
                named = [(translate.camel_path(p), translate.camel_text(r)) for p, r in problems]
                raise ValidationError(named, request.urn.rsplit("::", 1)[-1])
        # Named per property, so `pulumi preview --diff` says what re-triggers the run.
        detailed = {
            translate.camel_path(name): PropertyDiff(kind, input_diff=True)
            for names, kind in (
                (result.replaces, PropertyDiffKind.UPDATE_REPLACE),
                (result.triggers + result.settings, PropertyDiffKind.UPDATE),
            )
            for name in names
        }
        return DiffResponse(
            changes=result.changes,
            replaces=[translate.camel_path(p) for p in result.replaces],
            stables=[],
            delete_before_replace=False,
            diffs=list(detailed),
            detailed_diff=detailed,
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        if request.preview and not self._is_extraction(request.urn):
            # What the engine shows for a provider without previews: the inputs; nothing sent.
            return CreateResponse(resource_id="", properties=request.properties)
        if self._is_extraction(request.urn):
            return await extraction.create(self._context, request)
        if self._is_completion(request.urn):
            return await completion.create(self._context, request)
        group = self._is_group(request.urn)
        props = {**self._in(request.urn, request.properties), URN_KEY: request.urn}
        create = operations.create_group if group else operations.create_run
        resource_id, values = await asyncio.to_thread(create, self._context, props)
        secret = translate.secret_names(request.properties)
        outs = self._out(request.urn, values, secret)
        reasons = failure_reasons(group, values, {})
        if reasons:
            raise RunFailed(resource_id, outs, reasons)
        return CreateResponse(resource_id=resource_id, properties=outs)

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        if request.preview and not self._is_extraction(request.urn):
            return UpdateResponse(properties=self._previewed_update(request))
        if self._is_extraction(request.urn):
            return await extraction.update(self._context, request)
        if self._is_completion(request.urn):
            return await completion.update(self._context, request)
        group = self._is_group(request.urn)
        olds = self._in(request.urn, request.olds, state=True)
        news = {**self._in(request.urn, request.news), URN_KEY: request.urn}
        update = operations.update_group if group else operations.update_run
        values = await asyncio.to_thread(update, self._context, olds, news)
        secret = translate.secret_names(request.news)
        outs = self._out(request.urn, values, secret)
        reasons = failure_reasons(group, values, olds)
        if reasons:
            raise RunFailed(request.resource_id, outs, reasons)
        return UpdateResponse(properties=outs)

    def _previewed_update(self, request: UpdateRequest) -> dict[str, PropertyValue]:
        """A preview's outputs of an update: the inputs (the rest unknown), or, for a run or
        group whose update sends nothing (a setting changed, or the engine updates a run whose
        last step failed), what the state holds with the new inputs, which that update
        records: a completion of it then sees at preview what it will see at `up`."""
        if self._is_completion(request.urn):
            return request.news
        olds = self._in(request.urn, request.olds, state=True)
        news = self._in(request.urn, request.news)
        if self._is_group(request.urn):
            targets, _, known = bill.group_charge(olds, news)
            return request.news if targets or not known else {**request.olds, **request.news}
        if bill.run_charge(olds, news):
            return request.news
        # As update_run records it: the state's outputs with the new inputs (a new timeout is
        # in the completionTarget too).
        values = {**olds, **{k: v for k, v in news.items() if not k.startswith("__")}}
        return self._out(request.urn, values, translate.secret_names(request.news))

    async def read(self, request: ReadRequest) -> ReadResponse:
        if self._is_extraction(request.urn):
            return await extraction.read(self._context, request)
        if self._is_completion(request.urn):
            return await completion.read(request)
        group = self._is_group(request.urn)
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
        props = self._in(request.urn, request.properties, state=True)
        read = operations.read_group if group else operations.read_run
        values = await asyncio.to_thread(read, self._context, props)
        secret = translate.secret_names(request.properties)
        return ReadResponse(
            resource_id=request.resource_id,
            properties=self._out(request.urn, values, secret),
            inputs=request.inputs,
        )

    async def delete(self, request: DeleteRequest) -> None:
        if self._is_extraction(request.urn):
            # Unlike a run, a configuration is undone: DataGOL deletes it.
            return await extraction.delete(self._context, request)
        # A finished extraction cannot be undone; the run only leaves the stack.
        return None
