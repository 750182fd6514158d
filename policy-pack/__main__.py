"""DataGOL policies for paid extraction runs, for a platform team to enforce on every stack.

- ``max-triggers-per-update`` (stack, mandatory): the update triggers at most
  ``maxTriggersPerUpdate`` runs (policy config, default 25; 0: no limit), whatever the stack's
  own ``datagol:maxTriggersPerUpdate`` or ``DATAGOL_MAX_TRIGGERS_PER_UPDATE`` say. A stack policy
  sees each resource's properties, not what a step changes, so it cannot tell a re-trigger from
  a setting change; the providers can, and it reads the count they made for this update
  (``datagol_bill``). It runs once the preview has checked and diffed every resource.
- ``waited-runs-have-a-timeout`` (resource, mandatory): a run (or group key) that waits for
  completion sets ``timeout_seconds``, at most ``maxTimeoutSeconds`` (default 3600), so that no
  update waits on a paid job for the provider's default of hours.

Both faces' types are covered: the dynamic provider's (Python programs, snake_case properties)
and the plugin's (``datagol:index:*``, camelCase).
"""

from collections.abc import Mapping
from typing import Any

from datagol_bill import engine_address, read_bill
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

RUN_TYPES = {"pulumi-python:dynamic/datagol:ExtractionRun", "datagol:index:ExtractionRun"}
GROUP_TYPES = {
    "pulumi-python:dynamic/datagol:ExtractionRunGroup",
    "datagol:index:ExtractionRunGroup",
}
DEFAULT_MAX_TRIGGERS = 25
DEFAULT_MAX_TIMEOUT = 3600
SHOWN = 10


def max_triggers_per_update(args: StackValidationArgs, report: ReportViolation) -> None:
    limit = int(args.get_config().get("maxTriggersPerUpdate", DEFAULT_MAX_TRIGGERS))
    bill = read_bill(engine_address())
    if not limit or bill is None or int(bill.get("runs") or 0) <= limit:
        return
    names = [str(n) for n in bill.get("names") or []][:SHOWN]
    more = int(bill["runs"]) - len(names)
    report(
        f"This update would trigger {bill['runs']} DataGOL runs (paid extraction jobs) in "
        f"{bill.get('batches')} requests, over the organisation's limit of {limit} per update "
        f"(policy config maxTriggersPerUpdate). Runs: {', '.join(names)}"
        f"{f' and {more} more' if more > 0 else ''}. Split the change into smaller updates or "
        "update part of the stack with `pulumi up --target <urn>`; the stack's own "
        "datagol:maxTriggersPerUpdate does not lift this limit"
    )


def _get(props: Mapping[str, Any], snake: str, camel: str) -> Any:
    return props.get(snake, props.get(camel))


def _runs(args: ResourceValidationArgs) -> list[tuple[str, Mapping[str, Any]]]:
    """(name, effective inputs) of each run the resource declares."""
    props = args.props
    if args.resource_type in RUN_TYPES:
        return [(args.name, props)]
    runs = props.get("runs")
    if args.resource_type not in GROUP_TYPES or not isinstance(runs, Mapping):
        return []
    defaults = {
        k: v
        for k in ("wait_for_completion", "waitForCompletion", "timeout_seconds", "timeoutSeconds")
        if (v := props.get(k)) is not None
    }
    return [
        (f"{args.name}[{key}]", {**defaults, **{k: v for k, v in run.items() if v is not None}})
        for key, run in sorted(runs.items())
        if isinstance(run, Mapping)
    ]


def waited_runs_have_a_timeout(args: ResourceValidationArgs, report: ReportViolation) -> None:
    most = float(args.get_config().get("maxTimeoutSeconds", DEFAULT_MAX_TIMEOUT))
    for name, run in _runs(args):
        if _get(run, "wait_for_completion", "waitForCompletion") is not True:
            continue
        timeout = _get(run, "timeout_seconds", "timeoutSeconds")
        if not isinstance(timeout, (int, float)):
            report(f"{name} waits for completion without timeout_seconds; set at most {most:g}")
        elif timeout > most:
            report(f"{name} waits up to {timeout:g} s for completion; at most {most:g} allowed")


PolicyPack(
    name="datagol",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        StackValidationPolicy(
            name="max-triggers-per-update",
            description="An update triggers at most maxTriggersPerUpdate paid DataGOL runs.",
            validate=max_triggers_per_update,
            config_schema=PolicyConfigSchema(
                properties={"maxTriggersPerUpdate": {"type": "integer", "minimum": 0}}
            ),
        ),
        ResourceValidationPolicy(
            name="waited-runs-have-a-timeout",
            description="A run that waits for completion sets a bounded timeout_seconds.",
            validate=waited_runs_have_a_timeout,
            config_schema=PolicyConfigSchema(
                properties={"maxTimeoutSeconds": {"type": "number", "exclusiveMinimum": 0}}
            ),
        ),
    ],
)
