"""datagol_pulumi.sdk_errors changes the SDK server's traceback text only where it is sure."""

from __future__ import annotations

import traceback
from types import ModuleType

from datagol_pulumi.errors import ConfigurationError
from datagol_pulumi.sdk_errors import quiet_server_tracebacks


def server_main(**names: object) -> ModuleType:
    main = ModuleType("__main__")
    main.__file__ = "/venv/lib/python3.12/site-packages/pulumi/dynamic/__main__.py"
    main.traceback = traceback  # type: ignore[attr-defined]
    main._abort_with_traceback = lambda fn: fn  # type: ignore[attr-defined]
    for name, value in names.items():
        setattr(main, name, value)
    return main


def formatted(main: ModuleType, exc: BaseException) -> str:
    try:
        raise exc
    except BaseException:
        return main.traceback.format_exc()  # type: ignore[attr-defined]


def test_our_errors_become_their_message_and_others_keep_their_traceback() -> None:
    main = server_main()
    assert quiet_server_tracebacks(main)
    assert formatted(main, ConfigurationError("datagol:baseUrl: fix it")) == (
        "datagol:baseUrl: fix it"
    )
    try:
        raise ConfigurationError("inner")
    except ConfigurationError as inner:
        wrapped = RuntimeError("outer")
        wrapped.__cause__ = inner
    assert formatted(main, wrapped) == "inner"  # found in the chain, as the plugin does
    other = formatted(main, KeyError("x"))
    assert other.startswith("Traceback (most recent call last)") and "KeyError" in other
    assert main.traceback.print_exc is traceback.print_exc  # type: ignore[attr-defined]
    assert quiet_server_tracebacks(main)  # twice: still the one stand-in


def test_nothing_changes_unless_the_server_looks_as_expected() -> None:
    program = server_main()
    program.__file__ = "/project/__main__.py"
    assert not quiet_server_tracebacks(program)
    assert program.traceback is traceback  # type: ignore[attr-defined]
    reshaped = server_main()
    del reshaped._abort_with_traceback  # type: ignore[attr-defined]
    assert not quiet_server_tracebacks(reshaped)
    assert reshaped.traceback is traceback  # type: ignore[attr-defined]
    renamed = server_main(traceback=None)
    assert not quiet_server_tracebacks(renamed)
