"""B6's middle program: ``__main__.py``'s ExtractionRuns without its stack exports.

The same runs from the same stack config, constructed the same way, but no ``pulumi.export``:
the difference to the real program is what exporting six outputs per run costs.
"""

import pulumi

from datagol_pulumi import ExtractionRun
from datagol_pulumi.stack_config import load_runs

config = pulumi.Config()
for name, inputs in load_runs(config.get_object("runs"), config.get_object("defaults")).items():
    ExtractionRun(name, **inputs)
