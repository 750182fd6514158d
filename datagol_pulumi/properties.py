"""The properties of DataGOL's resources, defined once for both faces.

The dynamic resources (Python programs) use the snake_case names; the packaged plugin's schema
(every Pulumi language) uses the camelCase ones. Validation's property lists, the schema and the
plugin's translation are all derived from these definitions, so adding a property means adding
it here and then using it: nothing else lists it.

Kinds of input, as the lifecycle treats them (see :mod:`datagol_pulumi.runs`):

* ``replace``: names another element or extraction; a change is a new run (a replacement);
* ``trigger``: what is extracted; a change re-triggers the run (an update that sends);
* ``setting``: how the run is sent or awaited; a change is an update that sends nothing.

An ``Extraction`` (a configuration, :mod:`datagol_pulumi.extraction`) has two kinds of its own:
``recreate`` (its Pulumi id names it: a change makes a new configuration) and ``update`` (a
change is one PUT of the declared configuration).
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import DEFAULT_FAILURE_STATUSES, DEFAULT_SUCCESS_STATUSES, KEYS

#: Schema types: a JSON schema type, or "rows"/"map"/"list" for values of any shape.
ANY = {"$ref": "pulumi.json#/Any"}


@dataclass(frozen=True)
class Prop:
    """One property: its snake_case name, schema type, meaning and role."""

    name: str
    type: str
    description: str
    kind: str = "output"
    secret: bool = False
    required: bool = False

    @property
    def camel(self) -> str:
        return camel(self.name)

    def schema(self) -> dict:
        """This property's Pulumi schema (``secret`` included)."""
        spec: dict = dict(_TYPES[self.type])
        spec["description"] = self.description
        if self.secret:
            spec["secret"] = True
        return spec


_TYPES: dict[str, dict] = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "rows": {"type": "array", "items": {"type": "object", "additionalProperties": ANY}},
    "map": {"type": "object", "additionalProperties": ANY},
    "strings": {"type": "array", "items": {"type": "string"}},
    "list": {"type": "array", "items": ANY},
}


def camel(name: str) -> str:
    """``where_clause`` -> ``whereClause``: how Pulumi packages name properties."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """``whereClause`` -> ``where_clause``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


RUN_INPUTS: tuple[Prop, ...] = (
    Prop("workspace_id", "string", "The DataGOL workspace (a UUID).", "replace", required=True),
    Prop(
        "extraction_id", "string", "The extraction configuration to run.", "replace", required=True
    ),
    Prop(
        "element_type",
        "string",
        "What the extraction reads: COLUMN, FILE or FOLDER.",
        "replace",
        required=True,
    ),
    Prop(
        "element_id",
        "string",
        "The column, file or folder to extract from.",
        "replace",
        required=True,
    ),
    Prop(
        "mode",
        "string",
        "full (every record), filter (records matching the where clause), selected (the given "
        "rows) "
        "or new (only records not extracted before). Default: full.",
        "trigger",
    ),
    Prop(
        "where_clause",
        "string",
        "The filter of mode filter (or new), e.g. status = 'open'.",
        "trigger",
    ),
    Prop("rows", "rows", "The rows to extract with mode selected (JSON objects).", "trigger"),
    Prop("extract_only_new", "boolean", "Extract only records not extracted before.", "trigger"),
    Prop(
        "triggers",
        "map",
        "Any values; changing one re-triggers the run on purpose (e.g. a release number).",
        "trigger",
    ),
    Prop(
        "wait_for_completion",
        "boolean",
        "Wait until DataGOL reports the run finished before the update ends.",
        "setting",
    ),
    Prop(
        "poll_interval_seconds", "number", "Seconds between status polls while waiting.", "setting"
    ),
    Prop("timeout_seconds", "number", "The longest wait for completion, in seconds.", "setting"),
    Prop(
        "batch_size",
        "integer",
        "Send selected rows in requests of at most this many rows.",
        "setting",
    ),
)

RUN_OUTPUTS: tuple[Prop, ...] = (
    Prop("rows_digest", "string", "sha256 of the rows sent; the rows are never kept in state."),
    Prop("row_count", "integer", "How many rows were sent."),
    Prop("request_id", "string", "The request id DataGOL returned (the first one, with batches)."),
    Prop("request_ids", "strings", "Every request id DataGOL returned, one per batch."),
    Prop("status", "string", "The run's last known status."),
    Prop("message", "string", "DataGOL's last message about the run."),
    Prop(
        "error",
        "string",
        "Why the last trigger did not succeed although it may have started a job.",
    ),
    Prop("triggered_at", "string", "When the run was last triggered (UTC, ISO 8601)."),
    Prop("finished_at", "string", "When the run was seen finished, if it was awaited."),
    Prop("duration_seconds", "number", "From trigger to finish, if it was awaited."),
    Prop("run_count", "integer", "1 on create, +1 on every re-trigger."),
    Prop("request_digest", "string", "sha256 of every request sent by the last trigger."),
    Prop(
        "batches",
        "list",
        "The ledger of the last operation: one entry per request (state, rows, request id, "
        "status, outcome, error).",
    ),
    Prop("operation_id", "string", "Changes with every operation that sends (create, re-trigger)."),
    Prop(
        "masked_values",
        "strings",
        "What of the run's secret inputs no message shows (a where clause's literals, ...): "
        "every later process that reads its status masks them too. Empty without secret inputs.",
        secret=True,
    ),
)
#: Outputs only a group's run results carry.
RESULT_OUTPUTS: tuple[Prop, ...] = (
    Prop("refused", "string", "Why DataGOL refused this run's trigger (nothing was started)."),
)

GROUP_INPUTS: tuple[Prop, ...] = (
    Prop(
        "runs",
        "run_map",
        "The runs, by a name of your choice; each takes the inputs of an ExtractionRun.",
        "group",
        required=True,
    ),
    Prop("max_concurrency", "integer", "How many runs are triggered and awaited at once.", "group"),
    Prop("wait_for_completion", "boolean", "Default of every run's wait_for_completion.", "group"),
    Prop(
        "poll_interval_seconds", "number", "Default of every run's poll_interval_seconds.", "group"
    ),
    Prop("timeout_seconds", "number", "Default of every run's timeout_seconds.", "group"),
)

GROUP_OUTPUTS: tuple[Prop, ...] = (
    Prop("results", "result_map", "Each run's outputs, by its name."),
    Prop("triggered_keys", "strings", "The names of the runs this update triggered."),
)

#: An extraction configuration, named after DataGOL's ExtractionDTO. Nested objects are sent
#: as written, in DataGOL's JSON names (``uiDataType``, ``createNewWorkbook``).
EXTRACTION_INPUTS: tuple[Prop, ...] = (
    Prop(
        "workspace_id",
        "string",
        "The DataGOL workspace (a UUID). Changing it makes a new configuration there.",
        "recreate",
        required=True,
    ),
    Prop("title", "string", "The configuration's title.", "update", required=True),
    Prop(
        "extraction_mode",
        "string",
        "STANDARD or ADVANCED (with advancedSchema).",
        "update",
        required=True,
    ),
    Prop(
        "element_type",
        "string",
        "What the extraction reads: COLUMN, FILE or FOLDER. Changing it makes a new "
        "configuration (Get Extractions lists configurations per element).",
        "recreate",
        required=True,
    ),
    Prop(
        "element_id",
        "string",
        "The column, file or folder the configuration belongs to. Changing it makes a new "
        "configuration (Get Extractions lists configurations per element).",
        "recreate",
        required=True,
    ),
    Prop("element_ids", "strings", "Further elements the configuration reads.", "update"),
    Prop("input_table_id", "string", "The table the extraction reads.", "update"),
    Prop(
        "output_configuration",
        "map",
        "Where results go, in DataGOL's names, e.g. {createNewWorkbook: true, title: ...} or "
        "{tableId: ...}.",
        "update",
        required=True,
    ),
    Prop(
        "primary_key_column_id",
        "strings",
        "The primary key columns of the output (unique ids).",
        "update",
        required=True,
    ),
    Prop(
        "column_configuration",
        "rows",
        "The columns to extract: objects with name, description, uiDataType (SINGLE_LINE_TEXT, "
        "NUMBER, JSON, LONG_TEXT, DATE, ...) and uiMetadata.",
        "update",
    ),
    Prop("advanced_schema", "map", "The JSON schema of extraction mode ADVANCED.", "update"),
    Prop("llm_model", "string", "The model DataGOL extracts with; unset: DataGOL's.", "update"),
    Prop("store_extracted_data", "boolean", "Whether DataGOL keeps the extracted data.", "update"),
    Prop("schedule_type", "string", "CRON, MANUAL, SCHEDULED or DATA_CHANGE.", "update"),
    Prop(
        "schedule",
        "map",
        "When it runs, in DataGOL's names: cronExpression, cronExpressionValue or "
        "basicSchedule {timeUnit: SECOND, MINUTE, HOURS, DAY or MONTH, units}.",
        "update",
    ),
)
#: What DataGOL keeps beside the declared configuration (never compared by diff).
EXTRACTION_OUTPUTS: tuple[Prop, ...] = (
    Prop(
        "extraction_id",
        "string",
        "DataGOL's id of the configuration (its integer id, as a string): the extractionId of "
        "an ExtractionRun.",
    ),
    Prop("company_id", "string", "The company DataGOL keeps the configuration under."),
    Prop("create_date", "string", "When DataGOL created the configuration."),
    Prop(
        "modi_date",
        "string",
        "When DataGOL last changed the configuration: feed it to a run's triggers to re-run it "
        "on every change.",
    ),
    Prop("created_by", "string", "Who created the configuration."),
    Prop("modified_by", "string", "Who last changed the configuration."),
    Prop("last_extracted_at", "string", "When DataGOL last extracted with it."),
    Prop("is_index_created", "boolean", "Whether DataGOL built its index."),
)

#: What each provider setting is, for the schema: its meaning and default, as the settings table
#: of docs/installation-configuration.md says them (tests/unit/test_docs.py), since the
#: generated SDKs show this text in editors. Which settings exist, and which are secret, is
#: config.KEYS (the one list of settings).
_SETTINGS: dict[str, tuple[str, str]] = {
    "baseUrl": ("string", "Your tenant's API host. Default: `https://be.datagol.ai`."),
    "token": ("string", "API token."),
    "authScheme": (
        "string",
        "How the token is sent: `bearer` sends `Authorization: Bearer`, `x-auth-token` sends "
        "`x-auth-token` (service accounts). Default: `bearer`.",
    ),
    "requestTimeout": (
        "number",
        "Seconds to wait for an answer once a request was sent. Default: `60`.",
    ),
    "connectTimeout": ("number", "Seconds to connect. Default: `10`."),
    "maxRetries": ("integer", "Resends of requests that cannot have started a job. Default: `3`."),
    "retryDeadline": (
        "number",
        "Seconds within which one request and all its resends end, `Retry-After` waits "
        "included; a resend that would end later is not made. Default: `120`.",
    ),
    "statusField": (
        "string",
        "The Poll Status field holding the status (also `state` is read). Default: `status`.",
    ),
    "successStatuses": (
        "string",
        "Poll Status values that mean success: a YAML list (`pulumi config set --path "
        "'datagol:successStatuses[0]' DONE`), a JSON list or `COMPLETED,DONE` (a `Provider` "
        "argument: a list or a comma-separated string); case-insensitive; anything else is "
        "still pending. Default: " + ", ".join(DEFAULT_SUCCESS_STATUSES) + ".",
    ),
    "failureStatuses": (
        "string",
        "Poll Status values that mean failure, written as `datagol:successStatuses`; "
        "case-insensitive; anything else is still pending. Default: "
        + ", ".join(DEFAULT_FAILURE_STATUSES)
        + ".",
    ),
    "caBundle": (
        "string",
        "CA certificates for https, for the API and the OAuth token endpoint; verification is "
        "always on; beats `REQUESTS_CA_BUNDLE` and `CURL_CA_BUNDLE`. Default: system CAs.",
    ),
    "allowInsecureHttp": (
        "boolean",
        "Allow credentials over plain http to a non-loopback host. Default: `false`.",
    ),
    "oauthTokenUrl": (
        "string",
        "OAuth 2.0 token endpoint (set it with `--plaintext`: Pulumi takes a key named like a "
        "token for a secret).",
    ),
    "oauthClientId": (
        "string",
        "OAuth client id; with the client secret and no refresh token, exchanged for an access "
        "token by the client-credentials grant (for CI), which replaces `datagol:token`.",
    ),
    "oauthClientSecret": ("string", "OAuth client secret, with `datagol:oauthClientId`."),
    "oauthRefreshToken": (
        "string",
        "OAuth refresh token, exchanged for an access token by the refresh-token grant, which "
        "replaces `datagol:token`.",
    ),
    "maxTriggersPerUpdate": (
        "integer",
        "Runs (paid jobs) one update may trigger across the stack; `0`: no limit. The variable "
        "beats the config, for a one-off update. Default: `25`.",
    ),
    "skipPreviewReads": (
        "boolean",
        "Check no credentials nor extraction ids with DataGOL at preview (no Get Extractions "
        "read): for previews without network or credentials. Default: `false`.",
    ),
}
#: Provider configuration (``datagol:<name>``), named by the Settings field.
CONFIG: tuple[Prop, ...] = tuple(
    Prop(
        key.field,
        _SETTINGS[key.name][0],
        f"{_SETTINGS[key.name][1]} Config datagol:{key.name}; environment {key.env}.",
        "config",
        secret=key.secret,
    )
    for key in KEYS
)


def names(props: tuple[Prop, ...], kind: str | None = None) -> tuple[str, ...]:
    """The snake_case names of ``props`` (of one ``kind``), in definition order."""
    return tuple(p.name for p in props if kind is None or p.kind == kind)
