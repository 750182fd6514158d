"""B11's baseline program: one trivial dynamic resource per declared configuration, whose
create POSTs the same Create Extraction body (``datagol-pulumi:bodies``) to the emulator."""

import pulumi
from bare_extraction_provider import Bare, BareCreate

config = pulumi.Config()
bare = config.require_object("bare")
provider = BareCreate(bare["url"], bare["headers"])
for name, body in (config.get_object("bodies") or {}).items():
    Bare(name, provider, {"body": body})
