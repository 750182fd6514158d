"""B8's diagnostic program: ``__main__.py`` (runs and exports) with ExtractionRun's failure hook
left out, to measure what the after-create hook costs on the create path. Not a way to deploy:
without the hook a failed run would not fail `pulumi up`.
"""

import pulumi

import datagol_pulumi.resource as resource
from datagol_pulumi import ExtractionRun
from datagol_pulumi.stack_config import load_runs

_with_hook = resource.run_options


def _without_hook(opts=None, secret_outputs=()):
    merged = _with_hook(opts, secret_outputs)
    merged.hooks = None
    return merged


resource.run_options = _without_hook

EXPORTED = ("request_id", "status", "run_count", "triggered_at", "finished_at", "error")
config = pulumi.Config()
for name, inputs in load_runs(config.get_object("runs"), config.get_object("defaults")).items():
    run = ExtractionRun(name, **inputs)
    pulumi.export(name, {key: getattr(run, key) for key in EXPORTED})
