"""``$ref`` resolution: ``$id``/``id``, ``$anchor``, ``$defs``/``definitions`` and JSON pointers.

Built on the ``referencing`` library (the resolver python-jsonschema uses), so base-URI changes and
anchors follow each draft exactly.  Nothing is fetched: a reference outside the document is
resolved only through the caller's ``resolver`` callable (or the bundled metaschemas).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import referencing
import referencing.jsonschema as rj
from referencing.exceptions import NoSuchResource, Unresolvable

from structgen.errors import InvalidSchemaError

RemoteResolver = Callable[[str], Any]
"""Maps an absolute URI (without fragment) to the schema document found there."""

_DRAFTS: dict[str, int] = {
    "http://json-schema.org/draft-03/schema": 4,
    "http://json-schema.org/draft-04/schema": 4,
    "http://json-schema.org/draft-06/schema": 6,
    "http://json-schema.org/draft-07/schema": 7,
    "https://json-schema.org/draft/2019-09/schema": 2019,
    "https://json-schema.org/draft/2020-12/schema": 2020,
}
_SPECS: dict[int, referencing.Specification[Any]] = {
    4: rj.DRAFT4,
    6: rj.DRAFT6,
    7: rj.DRAFT7,
    2019: rj.DRAFT201909,
    2020: rj.DRAFT202012,
}


def draft_of(schema: Any, default: int = 2020) -> int:
    """The draft (4, 6, 7, 2019 or 2020) a schema declares with ``$schema``, else ``default``."""
    if isinstance(schema, Mapping):
        uri = schema.get("$schema")
        if isinstance(uri, str):
            key = uri.split("#", 1)[0].rstrip("/")
            key = key.replace("https://json-schema.org/draft-0", "http://json-schema.org/draft-0")
            return _DRAFTS.get(key, default)
    return default


def escape_token(token: str) -> str:
    """One JSON-pointer reference token, escaped."""
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Scope:
    """Where a sub-schema sits: the resolver for its base URI, its draft and its JSON pointer."""

    resolver: referencing._core.Resolver[Any]
    draft: int
    pointer: str

    def child(self, *tokens: str | int) -> Scope:
        """The scope of a sub-schema reached through ``tokens``, base URI unchanged."""
        suffix = "".join("/" + escape_token(str(token)) for token in tokens)
        return Scope(self.resolver, self.draft, self.pointer + suffix)


class Document:
    """A schema document with its registry, and JSON pointers for every object in it."""

    def __init__(self, root: Any, draft: int, resolver: RemoteResolver | None = None):
        self.root = root
        self.draft = draft
        self._remote = resolver
        self._pointers: dict[int, str] = {}
        self.uses_unevaluated = False
        self._retrieved: list[Any] = []
        self._index(root, "")
        spec = _SPECS[draft]
        resource = spec.create_resource(root)
        base = resource.id() or ""
        self.base_uri = base
        registry: referencing.Registry[Any] = referencing.Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        try:
            registry = registry.with_resource(base, resource).crawl()
        except Exception as error:  # noqa: BLE001 - a malformed $id or anchor, whatever referencing raises
            raise InvalidSchemaError(f"cannot index the schema: {error}", "", "$id") from None
        self.registry = registry

    def root_scope(self) -> Scope:
        return Scope(self.registry.resolver(base_uri=self.base_uri), self.draft, "")

    def pointer_of(self, contents: Any, fallback: str) -> str:
        """The JSON pointer of an object of this document (or a retrieved one)."""
        return self._pointers.get(id(contents), fallback)

    def enter(self, scope: Scope, schema: Any) -> Scope:
        """The scope of ``schema`` itself: a new base URI (and draft) when it has an ``$id``."""
        if not isinstance(schema, Mapping):
            return scope
        key = "id" if scope.draft <= 4 else "$id"
        if not isinstance(schema.get(key), str) and "$schema" not in schema:
            return scope
        draft = draft_of(schema, scope.draft)
        resource = _SPECS[draft].create_resource(schema)
        try:
            resolver = scope.resolver.in_subresource(resource)
        except Exception:  # noqa: BLE001 - a malformed $id keeps the enclosing base URI
            return scope
        return Scope(resolver, draft, scope.pointer)

    def lookup(self, scope: Scope, ref: str, keyword: str = "$ref") -> tuple[Any, Scope]:
        """The schema ``ref`` points to, with its scope; InvalidSchemaError when it cannot be found."""
        where = scope.pointer + "/" + escape_token(keyword)
        try:
            resolved = scope.resolver.lookup(ref)
        except Unresolvable as error:
            cause = error.__cause__
            detail = f" ({cause})" if cause is not None and not isinstance(cause, NoSuchResource) else ""
            raise InvalidSchemaError(f"cannot resolve $ref {ref!r}{detail}", where, keyword) from None
        except Exception as error:  # noqa: BLE001 - malformed reference text
            raise InvalidSchemaError(f"cannot resolve $ref {ref!r}: {error}", where, keyword) from None
        contents = resolved.contents
        draft = draft_of(contents, scope.draft) if isinstance(contents, Mapping) else scope.draft
        fallback = ref if not ref.startswith("#") else ref[1:]
        return contents, Scope(resolved.resolver, draft, self.pointer_of(contents, fallback))

    def _retrieve(self, uri: str) -> referencing.Resource[Any]:
        contents: Any = None
        if self._remote is not None:
            try:
                contents = self._remote(uri)
            except Exception as error:
                raise NoSuchResource(ref=uri) from error  # type: ignore[call-arg]
        if contents is None:
            contents = _bundled_metaschema(uri)
        if contents is None:
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
        self._retrieved.append(contents)
        self._index(contents, quote(uri, safe=":/?=&%") + "#")
        return _SPECS[draft_of(contents, self.draft)].create_resource(contents)

    def _index(self, node: Any, pointer: str) -> None:
        stack: list[tuple[Any, str]] = [(node, pointer)]
        while stack:
            value, where = stack.pop()
            if isinstance(value, Mapping):
                if id(value) in self._pointers:
                    continue
                self._pointers[id(value)] = where
                if "unevaluatedProperties" in value or "unevaluatedItems" in value:
                    self.uses_unevaluated = True
                for key, child in value.items():
                    if isinstance(child, (Mapping, list)):
                        stack.append((child, where + "/" + escape_token(str(key))))
            elif isinstance(value, list):
                if id(value) in self._pointers:
                    continue
                self._pointers[id(value)] = where
                for index, child in enumerate(value):
                    if isinstance(child, (Mapping, list)):
                        stack.append((child, f"{where}/{index}"))


def _bundled_metaschema(uri: str) -> Any:
    import jsonschema_specifications  # type: ignore[import-untyped]

    try:
        return jsonschema_specifications.REGISTRY.contents(uri)
    except Exception:  # noqa: BLE001 - not a bundled metaschema
        return None
