"""Test program: single runs and a group in one stack, optionally split over two tenants.

Config (project namespace): ``single`` (name -> extra run inputs), ``keys`` (group key -> extra run
inputs), ``tenants`` (true: every other single run, and the group, go through a second explicit
provider, so that one update is served by two provider processes).
"""

import pulumi

from datagol_pulumi import ExtractionRun, ExtractionRunGroup, Provider

config = pulumi.Config()
WORKSPACE = config.require_object("defaults")["workspace_id"]
single = config.get_object("single") or {}
group = config.get_object("keys") or {}
providers = [Provider("tenant-a"), Provider("tenant-b")] if config.get_bool("tenants") else [None]


def options(index: int) -> pulumi.ResourceOptions | None:
    provider = providers[index % len(providers)]
    return pulumi.ResourceOptions(provider=provider) if provider else None


def inputs(element: str, spec: dict) -> dict:
    # The element id names the run, so each request says which run sent it.
    return {
        "workspace_id": WORKSPACE,
        "extraction_id": "ext-1",
        "element_type": "COLUMN",
        "element_id": element,
        **spec,
    }


for index, (name, spec) in enumerate(sorted(single.items())):
    ExtractionRun(name, **inputs(f"el-{name}", spec), opts=options(index))

if group:
    ExtractionRunGroup(
        "grp",
        runs={key: inputs(f"el-grp-{key}", spec) for key, spec in group.items()},
        opts=options(len(providers) - 1),
    )
