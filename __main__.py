"""The Pulumi program: one ExtractionRun per run declared in the stack's config.

Edit ``stacks/Pulumi.<stack>.yaml`` (key ``datagol-pulumi:runs``), not this file, to declare runs.
Set ``datagol-pulumi:group: true`` to send them as one ExtractionRunGroup, which triggers and
waits for many runs concurrently.
"""

import pulumi

from datagol_pulumi import ExtractionRun, ExtractionRunGroup
from datagol_pulumi.outputs import joined
from datagol_pulumi.stack_config import read_runs

#: Outputs exported per run (rows are never exported; their digest is).
EXPORTED = ("request_id", "status", "run_count", "triggered_at", "finished_at", "error")

config = pulumi.Config()
# Values from a key set with --secret stay secret, and so does what is computed from them.
runs = read_runs(config)

if config.get_bool("group"):
    group = ExtractionRunGroup(
        "runs",
        runs=runs,
        max_concurrency=config.get_int("maxConcurrency"),
    )
    pulumi.export("triggered_keys", group.triggered_keys)
    for name in runs:
        pulumi.export(
            name, group.results.apply(lambda r, n=name: {k: r[n].get(k) for k in EXPORTED})
        )
else:
    for name, inputs in runs.items():
        run = ExtractionRun(name, **inputs)
        # One Output per run, in one task (Output.all makes three per key): the SDK's cost grows
        # with the outputs a program has pending.
        pulumi.export(name, joined({key: getattr(run, key) for key in EXPORTED}))
