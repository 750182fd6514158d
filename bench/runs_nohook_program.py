"""B8's and B9's diagnostic program: ``__main__.py`` (copied beside this file as
``datagol_main.py``) run as it is, but with the after-create/after-update failure hook that
ExtractionRun and ExtractionRunGroup register left out, to measure what that hook costs on the
create path and how long it keeps a step's outputs out of the checkpoint. Not a way to deploy:
without the hook a failed run would not fail `pulumi up`.
"""

import runpy
from pathlib import Path

import datagol_pulumi.group as group
import datagol_pulumi.resource as resource

_with_hook = resource.run_options


def _without_hook(opts=None, secret_outputs=()):
    merged = _with_hook(opts, secret_outputs)
    merged.hooks = None
    return merged


resource.run_options = _without_hook
group.run_options = _without_hook
runpy.run_path(str(Path(__file__).with_name("datagol_main.py")), run_name="__main__")
