"""Our failures reach the user as their message only, not under the SDK's Python traceback.

The dynamic provider's server (``python -m pulumi.dynamic``, the SDK's ``__main__``) answers a
failed call with ``context.abort(UNKNOWN, traceback.format_exc())``: the CLI shows the whole
traceback, SDK frames included (``raise exc.with_traceback(None)`` of our own wrapper last),
above a message that already names what went wrong and the fix. The SDK offers no public way
to change that text, so, in that process only, the module's ``traceback`` name is pointed at a
stand-in whose ``format_exc`` gives a :class:`DataGolError`'s message alone and anything else's
traceback as before. Guarded: nothing is changed unless the running ``__main__`` is that server
and looks the way this was written against (``_abort_with_traceback`` and the ``traceback``
module); ``tests/contract/test_dynamic_server.py`` runs it through the SDK's own server.
"""

from __future__ import annotations

import sys
import traceback
from types import ModuleType
from typing import Any

from .engine_link import is_server_main
from .errors import DataGolError


def ours(
    exc: BaseException | None, kinds: type | tuple[type, ...] = DataGolError
) -> BaseException | None:
    """The exception of ``kinds`` (ours: a DataGolError) that ``exc`` is or was raised from."""
    seen = exc
    while seen is not None and not isinstance(seen, kinds):
        seen = seen.__cause__ or seen.__context__
    return seen


class _Traceback(ModuleType):
    """``traceback`` as the server sees it: our errors as their message."""

    def __init__(self) -> None:
        super().__init__("traceback")

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    @staticmethod
    def format_exc(*args: Any, **kwargs: Any) -> str:
        error = ours(sys.exc_info()[1])
        return str(error) if error is not None else traceback.format_exc(*args, **kwargs)


def quiet_server_tracebacks(main: ModuleType | None = None) -> bool:
    """Make the dynamic provider's server send our errors' messages without a traceback;
    whether it did (False: not that server, or not the shape this was written against)."""
    main = sys.modules.get("__main__") if main is None else main
    if main is None or not is_server_main(str(getattr(main, "__file__", "") or "")):
        return False
    current = getattr(main, "traceback", None)
    if isinstance(current, _Traceback):
        return True
    if current is not traceback or not callable(getattr(main, "_abort_with_traceback", None)):
        return False
    main.traceback = _Traceback()  # type: ignore[attr-defined]
    return True
