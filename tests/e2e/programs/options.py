"""Test program: ExtractionRuns under Pulumi's resource options, edited step by step.

`datagol-pulumi:step` stands for the edits a user makes between two `pulumi up`s:
step 1 renames and moves runs (with aliases), edits an ignored input and drops a retained run;
step 2 bumps the triggers of two runs (for `--target`); step 3 adds a run that waits under a
short create timeout.
"""

import time
from datetime import datetime, timezone

import pulumi
import pulumi.dynamic

from datagol_pulumi import ExtractionRun, ExtractionRunArgs

config = pulumi.Config()
step = config.get_int("step") or 0
WORKSPACE = config.require_object("defaults")["workspace_id"]


class AppProvider(pulumi.dynamic.ResourceProvider):
    """Stands for an application deploy that takes a moment; seeding must wait for it."""

    def create(self, props: dict) -> pulumi.dynamic.CreateResult:
        time.sleep(2.5)
        ready = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        return pulumi.dynamic.CreateResult("app", {"ready_at": ready.replace("+00:00", "Z")})


class App(pulumi.dynamic.Resource):
    ready_at: pulumi.Output[str]

    def __init__(self, name: str) -> None:
        super().__init__(AppProvider(), name, {"ready_at": None})


class Pipeline(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Pipeline", name)
        self.register_outputs({})


def run(name: str, opts: pulumi.ResourceOptions | None = None, **spec) -> ExtractionRun:
    """A run whose element id names it, so each request says which run sent it."""
    element = spec.pop("element", name)
    return ExtractionRun(
        name,
        workspace_id=WORKSPACE,
        extraction_id=spec.pop("extraction_id", "ext-1"),
        element_type="COLUMN",
        element_id=f"el-{element}",
        opts=opts,
        **spec,
    )


def child(parent: pulumi.Resource, **extra) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, **extra)


app = App("app")
pipeline = Pipeline("pipeline")
runs = {
    "seed": run(
        "seed",
        pulumi.ResourceOptions(depends_on=[app]),
        wait_for_completion=True,
        poll_interval_seconds=0.1,
    ),
    "inner": run("inner", child(pipeline)),
    "protected": run("protected", pulumi.ResourceOptions(protect=True)),
    "ignored": run(
        "ignored",
        pulumi.ResourceOptions(ignore_changes=["where_clause"]),
        mode="filter",
        where_clause=f"batch = {step}",
    ),
}
if step == 0:
    runs["retained"] = run("retained", pulumi.ResourceOptions(retain_on_delete=True))
    runs["old-name"] = run("old-name", element="renamed")
    runs["moved"] = run("moved")
else:
    runs["new-name"] = run(
        "new-name",
        pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-name")]),
        element="renamed",
    )
    runs["moved"] = run(
        "moved", child(pipeline, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)])
    )
for name in ("target-a", "target-b"):
    runs[name] = run(name, triggers={"release": "2" if step >= 2 else "1"})

# Two runs share one args object; each gets its own options' create timeout. (Their own
# element ids too: two identical runs in flight at once trip the in-flight journal.)
shared = ExtractionRunArgs(
    workspace_id=WORKSPACE, extraction_id="ext-1", element_type="COLUMN", element_id="el-timed"
)
for name, create in (("timed-90s", "90s"), ("timed-2m", "2m")):
    opts = pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create=create))
    runs[name] = ExtractionRun(name, shared, opts, element_id=f"el-{name}")
if step >= 3:
    runs["slow"] = run(
        "slow",
        pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="1s")),
        extraction_id="ext-slow",
        wait_for_completion=True,
        poll_interval_seconds=0.2,
    )

pulumi.export("app_ready_at", app.ready_at)
for name, resource in runs.items():
    pulumi.export(name, {"triggered_at": resource.triggered_at, "request_id": resource.request_id})
# The caller's args object is left as it was: no timeout, no element id written into it.
pulumi.export("shared_args", {"timeout": str(shared.timeout_seconds), "element": shared.element_id})
