"""A real llama-server that structgen starts itself, and where a server URL comes from."""

from structgen.server.default import default_client, resolve_url, serve_forever, shared_server
from structgen.server.discover import find_llama_server, find_model, locate
from structgen.server.errors import LocalServerError, LocalServerNotInstalledError, LocalServerStartError
from structgen.server.local import LocalServer, free_port

__all__ = [
    "LocalServer",
    "LocalServerError",
    "LocalServerNotInstalledError",
    "LocalServerStartError",
    "default_client",
    "find_llama_server",
    "find_model",
    "free_port",
    "locate",
    "resolve_url",
    "serve_forever",
    "shared_server",
]
