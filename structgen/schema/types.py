"""Python types to JSON Schema: pydantic models, dataclasses, TypedDict, Enum, Literal, unions, containers.

Everything goes through pydantic's ``TypeAdapter``, so the schema is exactly what pydantic
validates (``mode="validation"``): datetime, date, time, UUID and Decimal included.
"""

from __future__ import annotations

from typing import Any

from structgen.errors import UnsupportedSchemaError


def is_type_like(value: Any) -> bool:
    """True for Python types and typing constructs (anything that is not a JSON schema document)."""
    return not isinstance(value, (dict, bool, str, bytes, list, int, float)) and value is not None


def schema_for_type(tp: Any) -> dict[str, Any]:
    """The JSON schema pydantic validates ``tp`` against."""
    from pydantic import TypeAdapter  # imported on first use: it takes a while
    from pydantic.errors import PydanticUserError

    try:
        adapter: TypeAdapter[Any] = TypeAdapter(tp)
        return adapter.json_schema(mode="validation")
    except PydanticUserError as error:
        raise UnsupportedSchemaError(f"pydantic cannot describe {tp!r}: {error.message}", "") from None
    except (TypeError, ValueError, AttributeError, NameError) as error:
        raise UnsupportedSchemaError(f"pydantic cannot describe {tp!r}: {error}", "") from None
