"""B8's diagnostic provider: ExtractionRun's, without the bill (issue 18) in ``check``.

Copied beside bench/b8_nobill_program.py, so that dill pickles it by reference and the
provider process imports it from there. Its ``check`` is ExtractionRun's own, without
counting the runs (a file under ``flock``) and saying so through the engine's Log service:
the difference to the real provider is what that costs on the create path. Not a way to
deploy: it counts nothing and no limit holds.
"""

from datagol_pulumi import operations
from datagol_pulumi.provider import ExtractionRunProvider, _check_result


class NoBillProvider(ExtractionRunProvider):
    def check(self, olds, news):
        return _check_result(operations.check_run_inputs(news))
