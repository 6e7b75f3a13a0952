"""A real llama-server that structgen starts itself, and where a server URL comes from."""

from structgen.server.default import (
    check_url,
    default_client,
    resolve_endpoint,
    resolve_url,
    serve_forever,
    shared_client,
    shared_server,
)
from structgen.server.discover import find_llama_server, find_model, locate
from structgen.server.errors import (
    BadServerURLError,
    LocalServerError,
    LocalServerNotInstalledError,
    LocalServerStartError,
    PortInUseError,
)
from structgen.server.local import LocalServer, free_port, known_key, port_in_use

__all__ = [
    "BadServerURLError",
    "LocalServer",
    "LocalServerError",
    "LocalServerNotInstalledError",
    "LocalServerStartError",
    "PortInUseError",
    "check_url",
    "default_client",
    "find_llama_server",
    "find_model",
    "free_port",
    "known_key",
    "locate",
    "port_in_use",
    "resolve_endpoint",
    "resolve_url",
    "serve_forever",
    "shared_client",
    "shared_server",
]
