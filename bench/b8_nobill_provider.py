"""B8's diagnostic provider: ExtractionRun's, without the bill (issue 18) in ``check``.

Copied beside bench/b8_nobill_program.py, so that dill pickles it by reference and the
provider process imports it from there. Its ``check`` is ExtractionRun's own, without
counting the runs (a file under ``flock``); the preview's Get Extractions read stays, so the
difference to the real provider is what the count costs on the create path (until stop 26 the
read was left out too, and the difference was mostly the read's). Not a way to deploy: it
counts nothing and no limit holds.
"""

from datagol_pulumi import operations, preview_checks
from datagol_pulumi.operations import URN_KEY
from datagol_pulumi.provider import ExtractionRunProvider, _check_result


class NoBillProvider(ExtractionRunProvider):
    def check(self, olds, news):
        inputs, failures = operations.check_run_inputs(news)
        if not failures:
            urn = inputs.get(URN_KEY) or ""
            failures = preview_checks.on_check(self.context(), urn, olds, inputs, group=False)
        return _check_result((inputs, failures))
