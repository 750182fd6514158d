"""Pulumi resources that trigger DataGOL extraction runs, and a local DataGOL emulator.

>>> from datagol_pulumi import ExtractionRun, Provider
>>> ExtractionRun("orders", workspace_id=..., extraction_id=..., element_type="COLUMN",
...               element_id=..., mode="new")
"""

from ._version import __version__
from .client import DataGolClient
from .config import Settings
from .errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    DataGolError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    RunFailedError,
    ServerError,
    TransportError,
    ValidationError,
)
from .extraction.provider import ExtractionProvider
from .extraction.resource import Extraction, ExtractionArgs, get_extractions
from .group import ExtractionRunGroup, ExtractionRunGroupArgs
from .provider import ExtractionRunGroupProvider, ExtractionRunProvider
from .provider_resource import Provider, ProviderArgs
from .resource import ExtractionRun, ExtractionRunArgs
from .validation import check_run

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "DataGolClient",
    "DataGolError",
    "Extraction",
    "ExtractionArgs",
    "ExtractionProvider",
    "ExtractionRun",
    "ExtractionRunArgs",
    "ExtractionRunGroup",
    "ExtractionRunGroupArgs",
    "ExtractionRunGroupProvider",
    "ExtractionRunProvider",
    "NotFoundError",
    "PayloadTooLargeError",
    "Provider",
    "ProviderArgs",
    "RateLimitedError",
    "RunFailedError",
    "ServerError",
    "Settings",
    "TransportError",
    "ValidationError",
    "__version__",
    "check_run",
    "get_extractions",
]
