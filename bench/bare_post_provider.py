"""B8's baseline provider, in a module of its own (copied next to the program) so that dill
pickles it by reference: each resource's ``__provider`` holds no field at all, and the
baseline's checkpoint stays as small as a trivial resource's can be.

What it sends (URL, query, headers, body) comes from ``BENCH_BARE_POST`` in the provider
process's environment (the engine passes the CLI's on), read once per process. Until
2026-12-07 the provider held them as fields, so that every resource carried ~700 bytes of
pickled provider twice (inputs and outputs), ~1.4 KB of checkpoint per resource that no trivial
resource needs: the baseline paid for checkpoint writes a lean one does not (docs/benchmarks.md).
"""

import functools
import json
import os

import pulumi.dynamic
import requests

PATH = (
    "/noCo/api/v2/workspaces/{workspace_id}/extraction/{extraction_id}/{element_type}/"
    "{element_id}/run"
)
ENV = "BENCH_BARE_POST"


@functools.cache
def _bare():
    return json.loads(os.environ[ENV])


class BarePost(pulumi.dynamic.ResourceProvider):
    """Only ``create``: one bare ``requests.post`` of the trigger's bytes; the id is DataGOL's."""

    def create(self, props):
        bare = _bare()
        url = bare["url"] + PATH.format(**props) + "?" + bare["query"]
        response = requests.post(url, data=bare["body"].encode(), headers=bare["headers"])
        response.raise_for_status()
        return pulumi.dynamic.CreateResult(id_=response.json()["requestId"], outs={})


class Bare(pulumi.dynamic.Resource, module="bench", name="BarePost"):
    def __init__(self, name, provider, props):
        super().__init__(provider, name, props)
