"""B8's baseline provider, in a module of its own (copied next to the program) so that dill
pickles it by reference: each resource's ``__provider`` then holds the instance's few fields
instead of the class's code, and the baseline's checkpoint stays as small as a trivial
resource's can be.
"""

import pulumi.dynamic
import requests

PATH = (
    "/noCo/api/v2/workspaces/{workspace_id}/extraction/{extraction_id}/{element_type}/"
    "{element_id}/run"
)


class BarePost(pulumi.dynamic.ResourceProvider):
    """Only ``create``: one bare ``requests.post`` of the trigger's bytes; the id is DataGOL's."""

    def __init__(self, url, query, headers, body):
        self.url, self.query, self.headers, self.body = url, query, headers, body

    def create(self, props):
        url = self.url + PATH.format(**props) + "?" + self.query
        response = requests.post(url, data=self.body.encode(), headers=self.headers)
        response.raise_for_status()
        return pulumi.dynamic.CreateResult(id_=response.json()["requestId"], outs={})


class Bare(pulumi.dynamic.Resource, module="bench", name="BarePost"):
    def __init__(self, name, provider, props):
        super().__init__(provider, name, props)
