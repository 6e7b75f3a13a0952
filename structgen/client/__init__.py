"""HTTP client for the native API of llama.cpp's server and older "llama-like" servers."""

from structgen.client.client import CompletionStream, Conversation, LlamaClient
from structgen.client.errors import (
    AuthenticationError,
    BadRequestError,
    ClientError,
    ClientTimeoutError,
    ConnectTimeoutError,
    GrammarRejectedError,
    NotSupportedError,
    ResponseFormatError,
    SchemaRejectedError,
    ServerError,
    ServerUnavailableError,
    StreamInterruptedError,
    TransportError,
)
from structgen.client.params import CompletionParams, Prompt
from structgen.client.responses import (
    Completion,
    HealthStatus,
    ServerProps,
    StopType,
    StreamDelta,
    Timings,
    TokenCandidate,
    TokenPiece,
    TokenProbability,
)
from structgen.client.sse import ServerSentEvent, iter_events
from structgen.client.transport import RetryPolicy, Timeout

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ClientError",
    "ClientTimeoutError",
    "Completion",
    "CompletionParams",
    "CompletionStream",
    "ConnectTimeoutError",
    "Conversation",
    "GrammarRejectedError",
    "HealthStatus",
    "LlamaClient",
    "NotSupportedError",
    "Prompt",
    "ResponseFormatError",
    "RetryPolicy",
    "SchemaRejectedError",
    "ServerError",
    "ServerProps",
    "ServerSentEvent",
    "ServerUnavailableError",
    "StopType",
    "StreamDelta",
    "StreamInterruptedError",
    "Timeout",
    "Timings",
    "TokenCandidate",
    "TokenPiece",
    "TokenProbability",
    "TransportError",
    "iter_events",
]
