"""Secrets stay secret in what a run returns, through both faces (property-based, hypothesis).

Random secret positions in ``where_clause``, ``rows`` (a whole row or one field) and
``triggers`` go through the dynamic provider (the SDK's servicer, with the program's marker
computed by :func:`resource.secret_inputs_marker` from real secret Outputs) and through the plugin
(its gRPC server, secrets as the engine sends them). Two oracles, neither trusting
``secrecy.DERIVED``: an output that changes when only the secret values change must be returned
wrapped, and no output returned in clear may contain a secret's text.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pulumi
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pulumi.runtime import proto, rpc

from datagol_pulumi.properties import camel, snake
from datagol_pulumi.resource import secret_inputs_marker
from datagol_pulumi.secrecy import SECRET_INPUTS_KEY, secret_outputs
from datagol_pulumi.wire import unwrap
from tests.conftest import BASE_RUN, struct
from tests.contract.test_plugin import configure, plugin, props  # noqa: F401 - fixture

PLUGIN_URN = "urn:pulumi:dev::proj::datagol:index:ExtractionRun::secrets"


@dataclass(frozen=True)
class Secret:
    """A value the user gave as a secret."""

    value: Any


def _text(draw: Any, label: str) -> str:
    # A distinctive prefix, one label per value: the grep oracle must not find one value's text
    # inside another's.
    return f"s3cr3t-{label}-" + draw(
        st.text(alphabet="abcdefghijklmnop0123456789 '=<>", min_size=4)
    )


@st.composite
def runs(draw: Any) -> dict[str, Any]:
    """A run's inputs with secrets marked: a filter run or a selected run, with triggers."""
    if draw(st.booleans()):
        clause = f"note = '{_text(draw, 'wc')}'"
        inputs: dict[str, Any] = {
            "mode": "filter",
            "where_clause": Secret(clause) if draw(st.booleans()) else clause,
        }
    else:
        rows: list[Any] = []
        for index in range(draw(st.integers(1, 4))):
            row = {"id": f"s3cr3t-id{index}", "v": _text(draw, f"r{index}")}
            where = draw(st.sampled_from(("plain", "row", "field")))
            rows.append(
                Secret(row)
                if where == "row"
                else {**row, "v": Secret(row["v"])}
                if where == "field"
                else row
            )
        inputs = {"mode": "selected", "rows": Secret(rows) if draw(st.booleans()) else rows}
        if draw(st.booleans()):
            inputs["batch_size"] = draw(st.integers(1, 3))
    triggers = {f"t{i}": _text(draw, f"t{i}") for i in range(draw(st.integers(0, 2)))}
    if triggers:
        inputs["triggers"] = {
            k: Secret(v) if draw(st.booleans()) else v for k, v in triggers.items()
        }
    assume(_holds(inputs))
    return inputs


def _convert(value: Any, secret: Any) -> Any:
    if isinstance(value, Secret):
        return secret(_convert(value.value, secret))
    if isinstance(value, dict):
        return {k: _convert(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert(v, secret) for v in value]
    return value


def plain(inputs: dict[str, Any]) -> dict[str, Any]:
    return _convert(inputs, lambda v: v)


def perturbed(inputs: dict[str, Any]) -> dict[str, Any]:
    """The same run with every secret value changed, nothing else."""

    def change(value: Any) -> Any:
        if isinstance(value, str):
            return value + "x"
        if isinstance(value, dict):
            return {**value, "extra": "x"}
        return [*value, {"id": "extra"}]

    return _convert(inputs, change)


def _holds(value: Any) -> bool:
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(_holds(v) for v in value.values())
    return isinstance(value, list) and any(_holds(v) for v in value)


def secret_leaves(inputs: dict[str, Any]) -> list[str]:
    """Every string inside a secret, for the grep oracle."""

    def strings(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return []

    def walk(value: Any) -> list[str]:
        if isinstance(value, Secret):
            return strings(_convert(value.value, lambda v: v))
        if isinstance(value, dict):
            return [s for v in value.values() for s in walk(v)]
        if isinstance(value, list):
            return [s for v in value for s in walk(v)]
        return []

    return walk(inputs)


def program_marker(inputs: dict[str, Any]) -> list[str]:
    """What the program sends as SECRET_INPUTS_KEY for these inputs, from real secret Outputs."""

    async def compute() -> list[str]:
        values = _convert(inputs, pulumi.Output.secret)
        marker = await pulumi.Output.from_input(secret_inputs_marker(values)).future()
        # The SDK's own tasks (Output.secret, from_input) finish before the loop closes.
        await asyncio.gather(*(asyncio.all_tasks() - {asyncio.current_task()}))
        return marker

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(compute())
    finally:
        loop.close()


def check_protected(
    inputs: dict[str, Any], again: dict[str, Any], same: dict[str, Any], other: dict[str, Any]
) -> None:
    """``again``: outputs of the same inputs once more; ``other``: with the secrets changed.
    Keys are snake_case; values as deserialized (secrets wrapped)."""
    noisy = {k for k in again if unwrap(again[k]) != unwrap(same[k])}  # ids, clocks
    depends = {k for k in same if k not in noisy and unwrap(same[k]) != unwrap(other.get(k))}
    named = {k for k, v in inputs.items() if _holds(v)}
    assert named
    must = (depends | secret_outputs(named)) & set(same)
    exposed = sorted(k for k in must if not k.startswith("__") and not rpc.is_rpc_secret(same[k]))
    assert exposed == [], f"derived from secret {sorted(named)}, returned in clear: {exposed}"
    clear = json.dumps({k: v for k, v in same.items() if not rpc.is_rpc_secret(v)})
    leaked = [s for s in secret_leaves(inputs) if s in clear]
    assert leaked == []


def sent_bodies(emulator: Any, before: int) -> list[Any]:
    return [r["body"] for r in emulator.requests(method="POST")[before:]]


def expected_bodies(inputs: dict[str, Any]) -> list[Any]:
    if inputs["mode"] == "filter":
        return [{"selectAll": True, "whereClause": inputs["where_clause"]}]
    rows, size = inputs["rows"], inputs.get("batch_size") or len(inputs["rows"])
    return [{"selectAll": False, "rows": rows[i : i + size]} for i in range(0, len(rows), size)]


_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@given(run=runs())
@_SETTINGS
def test_dynamic_face_returns_nothing_derived_from_a_secret_in_clear(
    run: dict[str, Any], make_provider: Any, emulator: Any
) -> None:
    provider = make_provider()
    marker = program_marker(run)
    assert set(marker) == {k for k, v in run.items() if _holds(v)}

    def create(inputs: dict[str, Any]) -> dict[str, Any]:
        before = len(emulator.requests(method="POST"))
        created = provider.create({**BASE_RUN, **plain(inputs), SECRET_INPUTS_KEY: marker})
        # Still sent exactly as written.
        assert sent_bodies(emulator, before) == expected_bodies(plain(inputs))
        return created.outs

    same, again, other = create(run), create(run), create(perturbed(run))
    check_protected(run, again, same, other)
    # A refresh reads the state in clear (the engine hands a dynamic provider plain values)
    # and must protect the same outputs again.
    read = provider.read("r", unwrap(same)).outs
    check_protected(run, again, read, other)


@given(run=runs())
@_SETTINGS
def test_plugin_returns_nothing_derived_from_a_secret_in_clear(
    run: dict[str, Any],
    plugin: Any,  # noqa: F811
    emulator: Any,
) -> None:
    configure(plugin, emulator)

    def create(inputs: dict[str, Any]) -> dict[str, Any]:
        wire = {
            camel(k): v for k, v in _convert({**BASE_RUN, **inputs}, rpc.wrap_rpc_secret).items()
        }
        checked = plugin.Check(
            proto.CheckRequest(urn=PLUGIN_URN, olds=struct({}), news=struct(wire))
        )
        assert list(checked.failures) == []
        before = len(emulator.requests(method="POST"))
        created = plugin.Create(proto.CreateRequest(urn=PLUGIN_URN, properties=checked.inputs))
        assert sent_bodies(emulator, before) == expected_bodies(plain(inputs))
        outs = props(created.properties)
        return {snake(k): v for k, v in outs.items()}

    same, again, other = create(run), create(run), create(perturbed(run))
    check_protected(run, again, same, other)
    state = struct({camel(k): v for k, v in same.items()})
    read = plugin.Read(proto.ReadRequest(urn=PLUGIN_URN, id="r", properties=state, inputs=state))
    check_protected(run, again, {snake(k): v for k, v in props(read.properties).items()}, other)


FILTER = {**BASE_RUN, "mode": "filter", "where_clause": "ssn = '078-05-1120'"}


def test_dynamic_state_protected_for_no_secret_is_reprotected_once_without_a_request(
    make_provider: Any, emulator: Any
) -> None:
    provider = make_provider()
    state = provider.create({**FILTER, SECRET_INPUTS_KEY: []}).outs
    assert not rpc.is_rpc_secret(state["request_digest"])
    # A state written before the key existed (0.3.0) is no change while nothing is secret.
    before = {k: v for k, v in state.items() if k != SECRET_INPUTS_KEY}
    assert not provider.diff("r", before, {**FILTER, SECRET_INPUTS_KEY: []}).changes
    assert not provider.diff("r", state, {**FILTER, SECRET_INPUTS_KEY: []}).changes

    secret_now = {**FILTER, SECRET_INPUTS_KEY: ["where_clause"]}
    assert provider.diff("r", before, secret_now).changes
    posts = len(emulator.requests(method="POST"))
    updated = provider.update("r", before, secret_now).outs
    assert len(emulator.requests(method="POST")) == posts  # re-protects, sends nothing
    assert rpc.is_rpc_secret(updated["request_digest"])
    assert unwrap(updated["request_digest"]) == state["request_digest"]
    assert not provider.diff("r", unwrap(updated), secret_now).changes


def plugin_run_with_a_secret(server: Any, emulator: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The plugin's inputs for FILTER with its where clause secret, and what Create returned."""
    configure(server, emulator)
    news = {camel(k): v for k, v in FILTER.items()}
    news["whereClause"] = rpc.wrap_rpc_secret(news["whereClause"])
    created = props(
        server.Create(proto.CreateRequest(urn=PLUGIN_URN, properties=struct(news))).properties
    )
    return news, created


def plugin_diff(server: Any, olds: dict[str, Any], news: dict[str, Any]) -> Any:
    request = proto.DiffRequest(urn=PLUGIN_URN, id="r", olds=struct(olds), news=struct(news))
    return server.Diff(request).changes


def plugin_update(server: Any, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    request = proto.UpdateRequest(urn=PLUGIN_URN, id="r", olds=struct(olds), news=struct(news))
    return props(server.Update(request).properties)


def test_plugin_state_with_a_plain_digest_of_a_secret_is_reprotected_once(
    plugin: Any,  # noqa: F811
    emulator: Any,
) -> None:
    news, created = plugin_run_with_a_secret(plugin, emulator)
    assert rpc.is_rpc_secret(created["requestDigest"]) and rpc.is_rpc_secret(created["whereClause"])
    assert not any(k.startswith("__") for k in created)
    assert plugin_diff(plugin, created, news) == proto.DiffResponse.DIFF_NONE
    # As 0.3.0 left it: the where clause secret, its digest in clear.
    old = {**created, "requestDigest": unwrap(created["requestDigest"])}
    assert plugin_diff(plugin, old, news) == proto.DiffResponse.DIFF_SOME
    posts = len(emulator.requests(method="POST"))
    updated = plugin_update(plugin, old, news)
    assert len(emulator.requests(method="POST")) == posts
    assert rpc.is_rpc_secret(updated["requestDigest"])
    assert plugin_diff(plugin, updated, news) == proto.DiffResponse.DIFF_NONE


def test_dynamic_state_without_the_fragments_to_mask_records_them_once_without_a_request(
    make_provider: Any, emulator: Any
) -> None:
    provider = make_provider()
    secret = {**FILTER, SECRET_INPUTS_KEY: ["where_clause"]}
    state = provider.create(secret).outs
    assert "078-05-1120" in unwrap(state["masked_values"])
    assert not provider.diff("r", state, secret).changes
    # As a state written before runs recorded what to mask: one update records it.
    before = {k: v for k, v in state.items() if k != "masked_values"}
    assert provider.diff("r", before, secret).changes
    # Nothing secret, nothing to record: no change.
    plain_state = {k: v for k, v in provider.create(FILTER).outs.items() if k != "masked_values"}
    assert not provider.diff("r", plain_state, FILTER).changes
    posts = len(emulator.requests(method="POST"))
    updated = provider.update("r", before, secret).outs
    assert len(emulator.requests(method="POST")) == posts  # records them, sends nothing
    assert rpc.is_rpc_secret(updated["masked_values"])
    assert unwrap(updated["masked_values"]) == unwrap(state["masked_values"])
    assert not provider.diff("r", updated, secret).changes


def test_plugin_state_without_the_fragments_to_mask_records_them_once(
    plugin: Any,  # noqa: F811
    emulator: Any,
) -> None:
    news, created = plugin_run_with_a_secret(plugin, emulator)
    old = {k: v for k, v in created.items() if k not in ("maskedValues", "completionTarget")}

    assert plugin_diff(plugin, created, news) == proto.DiffResponse.DIFF_NONE
    assert plugin_diff(plugin, old, news) == proto.DiffResponse.DIFF_SOME
    posts = len(emulator.requests(method="POST"))
    updated = plugin_update(plugin, old, news)
    assert len(emulator.requests(method="POST")) == posts
    assert rpc.is_rpc_secret(updated["maskedValues"])
    assert "078-05-1120" in unwrap(updated["maskedValues"])
    assert plugin_diff(plugin, updated, news) == proto.DiffResponse.DIFF_NONE


def test_a_group_key_without_the_fragments_to_mask_records_them_once_without_a_request(
    make_provider: Any, emulator: Any
) -> None:
    from datagol_pulumi import ExtractionRunGroupProvider

    provider = make_provider(ExtractionRunGroupProvider)
    runs = {"a": FILTER, "b": {**FILTER, "element_id": "el-b"}}
    news = {"runs": runs, "max_concurrency": 16, "__secret_keys": ["a"]}
    state = unwrap(provider.create(news).outs)
    assert "078-05-1120" in state["results"]["a"]["masked_values"]
    assert state["results"]["b"]["masked_values"] == []
    assert not provider.diff("g", state, news).changes
    before = {**state, "results": {k: dict(r) for k, r in state["results"].items()}}
    for result in before["results"].values():
        del result["masked_values"]
    assert provider.diff("g", before, news).changes
    # Only a key holding a secret needs them: with none secret, no change.
    no_secret = {**news, "__secret_keys": []}
    assert not provider.diff("g", {**before, "__secret_keys": []}, no_secret).changes
    posts = len(emulator.requests(method="POST"))
    updated = unwrap(provider.update("g", before, news).outs)
    assert len(emulator.requests(method="POST")) == posts
    assert updated["results"]["a"]["masked_values"] == state["results"]["a"]["masked_values"]
    assert not provider.diff("g", updated, news).changes
