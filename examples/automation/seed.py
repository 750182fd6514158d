"""Seed DataGOL environments from the Automation API: each all or nothing, one after another.

    python examples/automation/seed.py STACK [STACK ...]

Run it in a project folder (its Pulumi.yaml and program, e.g. this repository's __main__.py
with runs declared in stacks/Pulumi.<stack>.yaml), with the same environment as `pulumi up`
(backend, passphrase, credentials). Each stack is previewed first: over
``datagol:maxTriggersPerUpdate``, or on any other failure the preview finds, that stack sends
nothing and the later ones are not started. The CLI's progress is printed as it comes.
"""

from __future__ import annotations

import sys

from pulumi import automation as auto

from datagol_pulumi.automation import PreviewFailed, preview_then_up


def seed(stacks: list[str], work_dir: str = ".") -> int:
    for name in stacks:
        stack = auto.select_stack(stack_name=name, work_dir=work_dir)
        print(f"== {name}: preview, then up", flush=True)
        try:
            result = preview_then_up(stack, on_output=lambda line: print(line, flush=True))
        except PreviewFailed as failed:
            print(f"== {name}: {failed}", file=sys.stderr, flush=True)
            return 1
        print(f"== {name}: {result.summary.result} {result.summary.resource_changes}", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(seed(sys.argv[1:]))
