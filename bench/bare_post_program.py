"""B8's baseline program: one trivial dynamic resource per declared run, whose create sends one
bare ``requests.post`` of the trigger's bytes to the emulator and returns its request id.

Like bench/trivial_program.py (B6), the provider implements only ``create`` (``check`` and
``diff`` are the SDK's defaults), and each resource gets the run's four ids as inputs, read from
the same stack config as ``__main__.py``. The URL, headers, query and body come from
``BENCH_BARE_POST`` (written by the bench from the provider's own ``trigger_requests`` and
client headers), so the emulator sees the same bytes on the same path as from an ExtractionRun
(B8 checks that it does). The provider lives in bare_post_provider.py, copied beside this file;
it reads them from BENCH_BARE_POST, so that its pickled form in state holds nothing.
"""

import pulumi
from bare_post_provider import Bare, BarePost

IDS = ("workspace_id", "extraction_id", "element_type", "element_id")

config = pulumi.Config()
provider = BarePost()
defaults = config.get_object("defaults") or {}
for name, spec in (config.get_object("runs") or {}).items():
    run = {**defaults, **spec}
    Bare(name, provider, {key: run[key] for key in IDS})
