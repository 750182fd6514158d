"""The dynamic provider of ``Extraction``: each method translates and calls :mod:`.lifecycle`.

Pickled into the state by reference, as the runs' providers are (see
:class:`datagol_pulumi.provider.ClientProvider`): no session, token or lock is ever in it.
"""

from __future__ import annotations

import functools
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from ..operations import URN_KEY
from ..provider import ClientProvider
from ..secrecy import secret_inputs
from . import lifecycle, preview
from .checks import check_extraction


def _name(props: dict[str, Any]) -> str:
    return str(props.get(URN_KEY) or "").rsplit("::", 1)[-1]


class ExtractionProvider(ClientProvider):
    """check/diff/create/update/read/delete of one extraction configuration."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        secret = secret_inputs(news)
        inputs, failures = check_extraction(news, secret)
        if not failures:  # what `up`'s create would refuse, asked before it (see .preview)
            failures = preview.refusals(self.context(), olds, inputs, _name(news), secret)
        if URN_KEY in news:
            inputs[URN_KEY] = news[URN_KEY]
        return CheckResult(inputs, [CheckFailure(p, reason) for p, reason in failures])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = lifecycle.diff(olds, news)
        if result.changes and not result.replaces:  # a PUT: of a configuration still there?
            refusal = preview.update_refusal(self.context(), id_)
            if refusal is not None:
                raise refusal
        return DiffResult(
            changes=result.changes,
            replaces=result.replaces,
            stables=[],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        recalled = functools.partial(preview.recalled, self.context())
        return CreateResult(*lifecycle.create(self.client(), props, _name(props), recalled))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(lifecycle.update(self.client(), id_, olds, news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        found_id, outs, _ = lifecycle.read(self.client(), id_, props)
        # Gone: an empty id drops it from the state (outs stays a dict: the SDK adds to it).
        return ReadResult(found_id, outs)

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        # Unlike a run, a configuration is undone: DataGOL deletes it (already gone is done).
        lifecycle.delete(self.client(), id_)
