"""continuum-client: field-level encryption of inference traffic (wire format cp2) for Python, as
httpx transports the official ``openai`` and ``anthropic`` SDKs accept::

    import httpx, openai
    from continuum_client import ContinuumTransport

    transport = ContinuumTransport(key_id="k2026", key=KEY)
    client = openai.OpenAI(base_url=URL, api_key=API_KEY, http_client=httpx.Client(transport=transport))
"""

from .errors import ContinuumError
from .key_source import Agreement, SharedKey
from .routes import RouteTable
from .transport import AsyncContinuumTransport, ContinuumTransport

__all__ = [
    "Agreement",
    "AsyncContinuumTransport",
    "ContinuumError",
    "ContinuumTransport",
    "RouteTable",
    "SharedKey",
]

__version__ = "0.1.0"
