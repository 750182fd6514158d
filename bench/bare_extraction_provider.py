"""B11's baseline provider, in a module of its own (copied next to the program) so that dill
pickles it by reference, as B8's bare_post_provider."""

import json

import pulumi.dynamic
import requests


class BareCreate(pulumi.dynamic.ResourceProvider):
    """Only ``create``: one bare ``requests.post`` of Create Extraction's body; the id is
    DataGOL's."""

    def __init__(self, url, headers):
        self.url, self.headers = url, headers

    def create(self, props):
        body = json.dumps(props["body"], sort_keys=True, separators=(",", ":")).encode()
        response = requests.post(self.url, data=body, headers=self.headers)
        response.raise_for_status()
        return pulumi.dynamic.CreateResult(id_=str(response.json()["id"]), outs={})


class Bare(pulumi.dynamic.Resource, module="bench", name="BareCreate"):
    def __init__(self, name, provider, props):
        super().__init__(provider, name, props)
