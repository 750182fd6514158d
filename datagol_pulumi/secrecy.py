"""Which of a run's inputs are secret: one rule, used by the core and by both faces.

The engine hands a dynamic provider plain values, so the program tells it which top-level inputs
hold a secret (at any depth) under ``SECRET_INPUTS_KEY``; the plugin reads the same from the
engine's own secret markers. Anything derived from a secret input is secret, and no message
quotes a value that was secret.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .wire import is_unknown

#: The top-level input names that hold a secret; ``ALL`` in it: treat every input as secret.
SECRET_INPUTS_KEY = "__secret_inputs"
ALL = "*"


def secret_inputs(props: Mapping[str, Any]) -> frozenset[str]:
    """The inputs named secret in ``props``. Not known yet (preview): all of them, so that no
    message quotes a value that may turn out to be secret."""
    value = props.get(SECRET_INPUTS_KEY)
    if value is None:
        return frozenset()
    if is_unknown(value) or not isinstance(value, (list, tuple)):
        return frozenset({ALL})
    return frozenset(str(name) for name in value)


def is_secret(prop: str, secret: Collection[str]) -> bool:
    """Whether input ``prop`` (or the whole input set) is secret."""
    return ALL in secret or prop in secret
