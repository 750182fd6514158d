"""B6's baseline program: one trivial dynamic resource per declared run, nothing else.

The provider implements only ``create`` (``check`` and ``diff`` are the SDK's defaults) and is
defined in the program, as most dynamic providers are. Each resource gets the run's four ids as
inputs, read from the same stack config as ``__main__.py``, so that what differs from the real
program is what ExtractionRun does per run, not the engine's work on the ids.
"""

import pulumi
import pulumi.dynamic

IDS = ("workspace_id", "extraction_id", "element_type", "element_id")


class CreateOnly(pulumi.dynamic.ResourceProvider):
    def create(self, props):
        return pulumi.dynamic.CreateResult(id_=props["element_id"], outs={})


class Trivial(pulumi.dynamic.Resource, module="bench", name="Trivial"):
    def __init__(self, name, props):
        super().__init__(CreateOnly(), name, props)


config = pulumi.Config()
defaults = config.get_object("defaults") or {}
for name, spec in (config.get_object("runs") or {}).items():
    run = {**defaults, **spec}
    Trivial(name, {key: run[key] for key in IDS})
