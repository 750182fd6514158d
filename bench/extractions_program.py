"""B11's subject: one Extraction per entry of ``datagol-pulumi:extractions`` (snake_case
inputs, as a user declares them)."""

import pulumi

from datagol_pulumi import Extraction

for name, spec in (pulumi.Config().get_object("extractions") or {}).items():
    Extraction(name, **spec)
