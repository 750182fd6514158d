"""Floor program of the bench: copied in place of __main__.py for the "empty stack" baselines.

The real program refuses a stack without runs, so this one stands in for it. It pays the
same costs a deployment of runs cannot avoid: the same imports, the same config reads and
the same explicit DataGOL provider resource (so the engine starts the dynamic provider
process and configures it), but it declares no run.
"""

import pulumi

from datagol_pulumi import ExtractionRun, ExtractionRunGroup  # noqa: F401 - same import cost
from datagol_pulumi.resource import datagol_provider
from datagol_pulumi.stack_config import load_runs  # noqa: F401 - same import cost

config = pulumi.Config()
config.get_object("runs")
config.get_object("defaults")
datagol_provider()
