"""B8's diagnostic program: ``__main__.py`` (copied beside this file as ``datagol_main.py``)
run as it is, but its ExtractionRuns served by bench/b8_nobill_provider.py (copied beside it
too), whose ``check`` leaves out the bill: what counting and announcing each run costs on
the create path. Not a way to deploy.
"""

import runpy
from pathlib import Path

from b8_nobill_provider import NoBillProvider

import datagol_pulumi.resource as resource

resource.ExtractionRunProvider = NoBillProvider
runpy.run_path(str(Path(__file__).with_name("datagol_main.py")), run_name="__main__")
