"""``Provider``: where DataGOL runs go, with which credentials, the way Pulumi providers do it.

Each setting comes from the ``Provider`` argument, else the ``datagol:*`` stack config, else
(in the provider process, at run time, never stored) the ``DATAGOL_*`` environment variable.
Credentials always become secret inputs: the engine keeps provider inputs in the state, and
keeps secret ones there as ciphertext only, as every Pulumi provider does with its credentials.

Runs without an explicit provider share one implicit ``Provider`` per program, named
"datagol" (the name 0.1.0 gave its provider resource, so that upgrading is an update of it).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import pulumi

from .config import KEYS, KEYS_BY_NAME, NAMESPACE, STACK_SCOPE_KEY
from .errors import ConfigurationError
from .setting_checks import unknown_key_problem

#: The package of every dynamic resource; a provider for it serves ExtractionRun and groups.
PACKAGE = "pulumi-python"
IMPLICIT_NAME = "datagol"


@dataclass
class ProviderArgs:
    """The settings of a :class:`Provider`; each ``None`` falls back to ``datagol:<key>``."""

    base_url: pulumi.Input[str] | None = None
    token: pulumi.Input[str] | None = None
    auth_scheme: pulumi.Input[str] | None = None
    request_timeout: pulumi.Input[float] | None = None
    connect_timeout: pulumi.Input[float] | None = None
    max_retries: pulumi.Input[int] | None = None
    retry_deadline: pulumi.Input[float] | None = None
    status_field: pulumi.Input[str] | None = None
    success_statuses: pulumi.Input[str | Sequence[str]] | None = None
    failure_statuses: pulumi.Input[str | Sequence[str]] | None = None
    ca_bundle: pulumi.Input[str] | None = None
    allow_insecure_http: pulumi.Input[bool] | None = None
    oauth_token_url: pulumi.Input[str] | None = None
    oauth_client_id: pulumi.Input[str] | None = None
    oauth_client_secret: pulumi.Input[str] | None = None
    oauth_refresh_token: pulumi.Input[str] | None = None
    max_triggers_per_update: pulumi.Input[int] | None = None
    skip_preview_reads: pulumi.Input[bool] | None = None


class Provider(pulumi.ProviderResource):
    """A DataGOL tenant and its credentials, for the runs given it as ``provider=``.

    >>> tenant = Provider("eu", base_url="https://eu.datagol.example",
    ...                   token=pulumi.Config().require_secret("euToken"))
    >>> ExtractionRun("orders", ..., opts=pulumi.ResourceOptions(provider=tenant))
    """

    def __init__(
        self,
        resource_name: str,
        args: ProviderArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        base_url: pulumi.Input[str] | None = None,
        token: pulumi.Input[str] | None = None,
        auth_scheme: pulumi.Input[str] | None = None,
        request_timeout: pulumi.Input[float] | None = None,
        connect_timeout: pulumi.Input[float] | None = None,
        max_retries: pulumi.Input[int] | None = None,
        retry_deadline: pulumi.Input[float] | None = None,
        status_field: pulumi.Input[str] | None = None,
        success_statuses: pulumi.Input[str | Sequence[str]] | None = None,
        failure_statuses: pulumi.Input[str | Sequence[str]] | None = None,
        ca_bundle: pulumi.Input[str] | None = None,
        allow_insecure_http: pulumi.Input[bool] | None = None,
        oauth_token_url: pulumi.Input[str] | None = None,
        oauth_client_id: pulumi.Input[str] | None = None,
        oauth_client_secret: pulumi.Input[str] | None = None,
        oauth_refresh_token: pulumi.Input[str] | None = None,
        max_triggers_per_update: pulumi.Input[int] | None = None,
        skip_preview_reads: pulumi.Input[bool] | None = None,
    ) -> None:
        arguments = locals()
        given = {k: v for k, v in arguments.items() if k in _FIELDS and v is not None}
        if isinstance(args, pulumi.ResourceOptions) and opts is None:
            args, opts = None, args  # Provider(name, opts): the order of Pulumi's own providers
        if args is not None:
            if given:
                raise TypeError(
                    f"Provider {resource_name!r}: pass settings either as ProviderArgs or as "
                    f"keyword arguments, not both (got args and {', '.join(sorted(given))})"
                )
            given = {f: v for f in _FIELDS if (v := getattr(args, f)) is not None}
        super().__init__(PACKAGE, resource_name, provider_inputs(given), opts)


_FIELDS = frozenset(f.name for f in fields(ProviderArgs))


def provider_inputs(given: dict[str, Any]) -> dict[str, Any]:
    """The provider resource's inputs: each argument, else its config value; secrets wrapped.

    A setting given nowhere is left out, so the provider process reads its ``DATAGOL_*``
    variable at run time and nothing of the environment reaches the state.
    """
    _refuse_unknown_keys()
    config = pulumi.Config(NAMESPACE)
    inputs: dict[str, Any] = {}
    for key in KEYS:
        value = given.get(key.field)
        secret_in_config = pulumi.runtime.config.is_config_secret(key.config_key)
        if value is None:
            if key.secret or secret_in_config:
                value = config.get_secret(key.name)
            else:
                value = config.get(key.name)
        if value is None:
            continue
        inputs[key.config_key] = pulumi.Output.secret(value) if key.secret else value
    # Not a setting: scopes the provider's in-flight journal to this stack.
    inputs[STACK_SCOPE_KEY] = (
        f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    )
    return inputs


def _config_keys() -> set[str]:
    """Every key of the stack's config, as the program sees it (the SDK's config module)."""
    runtime_config = pulumi.runtime.config
    keys = set(runtime_config.get_config_env())
    explicit = getattr(runtime_config, "CONFIG", None)  # set by Automation API inline programs
    if explicit is not None:
        keys |= set(explicit.get())
    return keys


def _refuse_unknown_keys() -> None:
    """A ``datagol:*`` key that is no setting fails the program, as the plugin's CheckConfig
    fails it: ignored, a misspelled ``baseURL`` would send to the default (production) host."""
    prefix = f"{NAMESPACE}:"
    problems = [
        problem
        for key in sorted(_config_keys())
        if key.startswith(prefix)
        and (problem := unknown_key_problem(key[len(prefix) :], KEYS_BY_NAME))
    ]
    if problems:
        raise ConfigurationError("; ".join(problems) + ". Nothing was sent")


@dataclass
class Program:
    """What one program run (one `pulumi up`, one Automation API call) shares between runs."""

    provider: Provider | None = None
    #: The hook that fails the deployment when a step it took recorded a failed run.
    failure_hook: pulumi.ResourceHook | None = None


# Keyed by the program's resource monitor: Automation API runs several programs in one process,
# even at once in threads, and each has its own monitor (a context variable of the SDK's
# settings). Weak keys: a finished program's entry goes with its monitor.
_PROGRAMS: weakref.WeakKeyDictionary[Any, Program] = weakref.WeakKeyDictionary()
_PROGRAMS_LOCK = threading.Lock()


class _NoMonitor:
    """Stands in for the monitor outside a Pulumi program (a weak key must not be None)."""


_NO_MONITOR = _NoMonitor()


def current_program() -> Program:
    """This program run's shared state, created on first use."""
    monitor = pulumi.runtime.settings.get_monitor()
    key = _NO_MONITOR if monitor is None else monitor
    with _PROGRAMS_LOCK:
        program = _PROGRAMS.get(key)
        if program is None:
            program = _PROGRAMS[key] = Program()
        return program


def implicit_provider() -> Provider:
    """The program's one ``Provider`` built from the ``datagol:*`` config, created on first use.

    Explicit (not Pulumi's default provider), because the engine stores a default dynamic
    provider's inputs, which are the *whole* stack config, in the state.
    """
    program = current_program()
    with _PROGRAMS_LOCK:
        if program.provider is None:
            program.provider = Provider(IMPLICIT_NAME)
        return program.provider


def chooses_provider(opts: pulumi.ResourceOptions | None) -> bool:
    """True when ``opts`` (or the parent it names) already gives runs a provider."""
    if opts is None:
        return False
    if opts.provider is not None:
        return True
    providers = opts.providers
    if isinstance(providers, dict):
        if PACKAGE in providers:
            return True
    elif providers and any(getattr(p, "package", None) == PACKAGE for p in providers):
        return True
    parent_providers = getattr(opts.parent, "_providers", None) or {}
    return PACKAGE in parent_providers
