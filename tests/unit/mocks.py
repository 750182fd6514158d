"""Pulumi's mocks for program-side tests: what a program registers, with which inputs."""

from __future__ import annotations

from typing import Any

import pulumi

PROVIDER_TYPE = "pulumi:providers:pulumi-python"


class Recorder(pulumi.runtime.Mocks):
    """Records every registered resource; its outputs echo its inputs."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.resources.append(args)
        return f"id-{args.name}", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        return {}

    def providers(self) -> dict[str, dict[str, Any]]:
        return {r.name: r.inputs for r in self.resources if r.typ == PROVIDER_TYPE}

    def provider_of(self, name: str) -> str:
        [resource] = [r for r in self.resources if r.name == name]
        return resource.provider.split("::")[3]  # urn:pulumi:stack::project::type::NAME::id


def run_program(
    body: Any, config: dict[str, str] | None = None, secret_keys: list[str] | None = None
) -> Recorder:
    """Run ``body`` as a Pulumi program under mocks (not a preview) with the given config."""
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, project="datagol-pulumi", stack="test", preview=False)
    pulumi.runtime.set_all_config(config or {}, secret_keys or [])
    pulumi.runtime.test(body)()
    return mocks
