"""Which of a run's inputs are secret: one rule, used by the core and by both faces.

The engine hands a dynamic provider plain values, so the program tells it which top-level inputs
hold a secret (at any depth) under ``SECRET_INPUTS_KEY``; the plugin reads the same from the
engine's own secret markers. Anything derived from a secret input is secret, and no message
quotes a value that was secret.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pulumi.runtime import rpc

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


#: Outputs computed from an input, beside its own echo (kept secret as well):
#: the request digest hashes the path, query and bodies sent, the batches record each body's
#: rows, and the rows' digest and count stand in for the rows.
DERIVED: Mapping[str, tuple[str, ...]] = {
    "workspace_id": ("request_digest",),
    "extraction_id": ("request_digest",),
    "element_type": ("request_digest",),
    "element_id": ("request_digest",),
    "mode": ("request_digest",),
    "extract_only_new": ("request_digest",),
    "where_clause": ("request_digest",),
    "rows": ("rows_digest", "row_count", "request_digest", "batches"),
    "batch_size": ("request_digest", "batches"),
}


#: The fragments of every secret input that no message may show (client.masking): computed from
#: whichever inputs are secret, so secret as soon as one is.
MASKED_VALUES = "masked_values"


def secret_outputs(secret: Collection[str]) -> frozenset[str]:
    """The outputs kept secret when the inputs ``secret`` are: each one's echo and everything
    computed from it (``ALL`` in it: every output)."""
    if ALL in secret:
        return frozenset({ALL})
    derived = frozenset(secret).union(*(DERIVED.get(name, ()) for name in secret))
    return derived | {MASKED_VALUES} if secret else derived


def protect(outputs: Mapping[str, Any], secret: Collection[str]) -> dict[str, Any]:
    """``outputs`` with those derived from a secret input wrapped as secrets.

    A provider's outputs are kept secret by the engine only when an input of the same name is;
    a digest of a secret where clause would otherwise land in state in clear. ``__`` keys are
    bookkeeping and stay as they are.
    """
    kept = secret_outputs(secret)
    if not kept:
        return dict(outputs)
    return {
        k: rpc.wrap_rpc_secret(v)
        if (ALL in kept or k in kept) and not k.startswith("__") and not rpc.is_rpc_secret(v)
        else v
        for k, v in outputs.items()
    }


def protected_inputs(secret_held: Collection[str], present: Collection[str]) -> frozenset[str]:
    """The inputs a state's outputs are protected for, read back from which outputs are secret:
    an input counts when every output of it that the state holds is secret."""
    kept, held = frozenset(secret_held), frozenset(present)
    candidates = kept | DERIVED.keys()
    return frozenset(
        name
        for name in candidates
        if (outs := ({name} | set(DERIVED.get(name, ()))) & held) and outs <= kept
    )


def reprotects(old: Collection[str], new: Collection[str]) -> bool:
    """Whether inputs secret now (``new``) need outputs that the state, protected for ``old``,
    holds in clear: an update then re-protects them (and sends nothing)."""
    before = secret_outputs(old)
    return ALL not in before and not secret_outputs(new) <= before


def lacks_fragments(outputs: Mapping[str, Any], secret: Collection[str]) -> bool:
    """Whether a run's state, written before runs recorded what to mask, lacks the fragments
    its secret inputs call for: an update then records them (and sends nothing), so that every
    later process that reads the run's status masks them."""
    return bool(secret) and MASKED_VALUES not in outputs
