"""Request bodies: decoded once, strictly, from the raw bytes straight into their schema type.

Litestar's own path decodes JSON to dicts and then converts them leniently ("5" or 5.0
would become an integer amount), so the handlers used to decode the raw body a second time
strictly to refuse that. ``StrictBody`` is a Litestar DTO that does the one strict decode
instead (``msgspec.json.Decoder(type)``, built once per type) and documents the request
body in OpenAPI with the schema type itself, exactly as before. A body that does not match
its type is an ``InvalidInputError`` (400) whose message ends with msgspec's
``- at `$.path``` (``ledger.problems`` turns it into a JSON pointer).

Use it on a controller (or handler) with ``dto = StrictBody`` and ``return_dto = None``:
the model type comes from each handler's ``data`` annotation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import msgspec
from litestar.dto import MsgspecDTO
from litestar.typing import FieldDefinition

from ledger.errors import InvalidInputError

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Reference, Schema

T = TypeVar("T", bound=msgspec.Struct)

_decoders: dict[type, msgspec.json.Decoder] = {}


def decode_strict(raw: bytes, model: type[T]) -> T:
    """``raw`` as a ``model``, with no coercion: JSON types must match the schema exactly."""
    decoder = _decoders.get(model)
    if decoder is None:
        decoder = _decoders.setdefault(model, msgspec.json.Decoder(model))
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise InvalidInputError(str(exc)) from exc
    except msgspec.DecodeError as exc:
        raise InvalidInputError(f"the body is not valid JSON: {exc}") from exc


class StrictBody(MsgspecDTO[T]):
    """A request-body DTO that is just ``decode_strict`` (see the module docstring).

    Set on a controller or handler without a type argument: the type of each handler's
    ``data`` is noted when Litestar registers the handler, and nothing else is built."""

    _models: ClassVar[dict[str, type]] = {}

    @classmethod
    def create_for_field_definition(
        cls,
        field_definition: FieldDefinition,
        handler_id: str,
        backend_cls: type[Any] | None = None,
    ) -> None:
        cls._models[handler_id] = field_definition.annotation

    def decode_bytes(self, value: bytes) -> Any:
        return decode_strict(value, self._models[self.asgi_connection.route_handler.handler_id])

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        model = self._models[self.asgi_connection.route_handler.handler_id]
        try:
            return msgspec.convert(value, model, strict=True)
        except msgspec.ValidationError as exc:
            raise InvalidInputError(str(exc)) from exc

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator
    ) -> Reference | Schema:
        return schema_creator.for_field_definition(field_definition)
