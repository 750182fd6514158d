"""Every failure this package raises, as one tree under :class:`DataGolError`.

The messages are written for the person running ``pulumi up``: each names what went wrong and
what to change. None of them ever contains a credential.
"""

from __future__ import annotations

from collections.abc import Sequence

from pulumi import RunError


class DataGolError(Exception):
    """Base class of every error raised by datagol_pulumi."""

    #: Whether a job may be running despite the error: a POST is then never resent, and the
    #: run is recorded instead of the error raised.
    may_have_started = False


class ConfigurationError(DataGolError, RunError):
    """Settings or stack YAML are unusable (``datagol:*`` config, ``DATAGOL_*`` environment).

    A :class:`pulumi.RunError`, so a program that raises it shows the message, not a traceback.
    """


class ValidationError(DataGolError, RunError):
    """Run inputs are invalid; raised before any request is sent.

    A :class:`pulumi.RunError`, so a program that raises it shows the message, not a traceback.

    ``failures`` holds ``(property, reason)`` pairs, the same pairs ``check`` reports.
    """

    def __init__(self, failures: Sequence[tuple[str, str]], subject: str = "") -> None:
        self.failures = list(failures)
        prefix = f"{subject}: " if subject else ""
        lines = "; ".join(f"{prop}: {reason}" for prop, reason in self.failures)
        super().__init__(f"{prefix}{lines}")


class TransportError(DataGolError):
    """No HTTP answer was received.

    ``may_have_started`` is True when the request may have reached the service (a read timeout
    or a dropped connection after sending), so a POST must not be resent.
    """

    def __init__(self, message: str, *, may_have_started: bool) -> None:
        super().__init__(message)
        self.may_have_started = may_have_started


class ApiError(DataGolError):
    """The service answered with an error status."""

    def __init__(self, message: str, *, status: int, server_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.server_message = server_message


class AuthenticationError(ApiError):
    """401 or 403: the token is missing, wrong, expired or not allowed."""


class NotFoundError(ApiError):
    """404: the workspace, extraction, element or request id does not exist."""


class BadRequestError(ApiError):
    """400 or 422: the service refused the request as sent."""


class PayloadTooLargeError(ApiError):
    """413: the body was too large for the service."""


class RateLimitedError(ApiError):
    """429 or 503 still answered after every allowed retry."""


class ServerError(ApiError):
    """500, 502, 504 or another 5xx on a POST: a job may be running, so nothing was resent."""

    may_have_started = True


class RunFailedError(DataGolError, RunError):
    """A triggered run reached a failure status, did not finish in time, or may have started
    without an answer; the message names the request id, the status and what to do.

    Raised in the program (a :class:`pulumi.RunError`: the message is shown without a traceback)
    after the engine recorded the run in state.
    """
