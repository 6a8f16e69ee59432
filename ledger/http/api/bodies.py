"""Request bodies: decoded once, strictly, from the raw bytes straight into their schema type.

Litestar's own path decodes JSON to dicts and then converts them leniently ("5" or 5.0
would become an integer amount), so the handlers used to decode the raw body a second time
strictly to refuse that. ``StrictBody`` is a Litestar DTO that does the one strict decode
instead (``msgspec.json.Decoder(type)``, built once per type) and documents the request
body in OpenAPI with the schema type itself, exactly as before. A body that does not match
its type is an ``InvalidInputError`` (400) whose message ends with msgspec's
``- at `$.path``` (``ledger.http.problems`` turns it into a JSON pointer).

Use it on a controller (or handler) with ``dto = StrictBody`` and ``return_dto = None``:
the model type comes from each handler's ``data`` annotation.

No surprises in what is accepted (``decode_strict``, so the donation fast path too):

* the body must be sent as ``Content-Type: application/json`` (parameters such as
  ``charset=utf-8`` are fine), else 415 saying so (``check_json_media_type``);
* an object must not repeat a key, at any depth: JSON (RFC 8259 §4) leaves the meaning of
  ``{"amount":1,"amount":100000}`` to each parser, and a ledger must not guess; 400 naming
  the key and its JSON pointer. After msgspec's strict decode, a walk of the raw bytes in C
  (``_jsonkeys.c``, about 0.2 µs for a donation) says when every object's names are plainly
  distinct; when it cannot say so (a repeat, an escaped name, very deep or wide objects, or
  where the extension was not built) the standard library's C parser with a hook that
  counts each object's keys (about 2 µs) decides and names the key;
* nesting is bounded by the schema (a body that goes deeper than its type fails to decode
  where it does), and anything that exhausts a parser's recursion is a 400, never a 500;
  receipts given as text to ``/v1/verify`` are held to ``ledger.verify.offline.MAX_JSON_DEPTH``;
* messages name the field, the expected form and an example (``ledger.http.api.explain``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import msgspec
from litestar.dto import MsgspecDTO
from litestar.openapi.spec import OpenAPIType, Reference, Schema
from litestar.typing import FieldDefinition

from ledger.errors import InvalidInputError, UnsupportedMediaError
from ledger.http.api.explain import explain
from schemas.charity import CODE_PATTERN
from schemas.money import CURRENCY_PATTERN, active_currencies

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

T = TypeVar("T", bound=msgspec.Struct)

JSON_MEDIA_TYPE = "application/json"

_decoders: dict[type, msgspec.json.Decoder] = {}


def check_json_media_type(content_type: str | None) -> None:
    """415 unless the body is declared as ``application/json`` (any parameters)."""
    if content_type is not None:
        media = content_type.split(";", 1)[0].strip().lower()
        if media == JSON_MEDIA_TYPE:
            return
    raise UnsupportedMediaError.of(
        "expected the header Content-Type: application/json (e.g. "
        "'Content-Type: application/json; charset=utf-8'), got {found}; send the body as JSON",
        found=repr(content_type) if content_type else "none",
    )


class _Repeated(ValueError):
    """A key seen twice in one object (raised from inside the standard library's parser)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Repeated(key)
            seen.add(key)
    return found


_counting = json.JSONDecoder(object_pairs_hook=_pairs_once)

try:
    from ledger.http.api._jsonkeys import unique as _plainly_unique
except ImportError:  # pragma: no cover - only where the extension could not be compiled
    _plainly_unique = None


def check_unique_keys(raw: bytes | str) -> None:
    """400 if an object anywhere in ``raw`` (already known to be valid JSON) repeats a key."""
    if _plainly_unique is not None and type(raw) is bytes and _plainly_unique(raw):
        return  # every name plain and distinct: what the pass below would find
    repeated_key_pass(raw)


def repeated_key_pass(raw: bytes | str) -> None:
    """``check_unique_keys`` by the standard library's parser alone: it decides every case
    the C walk is unsure of, and names the repeated key."""
    text = raw.decode("utf-8", "surrogatepass") if isinstance(raw, bytes) else raw
    try:
        _counting.decode(text)
    except _Repeated as exc:
        pointer = _find_repeated(text, exc.key)
        raise InvalidInputError.of(
            "{field}: the key {key} appears more than once in one object; send each key once",
            pointer=pointer,
            field=pointer.lstrip("/").replace("/", "."),
            key=f'"{exc.key}"',
        ) from None
    except RecursionError:
        raise too_deep() from None


def too_deep() -> InvalidInputError:
    return InvalidInputError.of(
        "the body is nested more deeply than its schema allows; send the documented object",
        pointer="",
    )


def _find_repeated(text: str, key: str) -> str:
    """The JSON pointer of the first object repeating ``key`` (only on the error path)."""

    class Marked(dict):  # type: ignore[type-arg]
        repeated = False

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = Marked(pairs)
        obj.repeated = len(obj) != len(pairs) and sum(1 for k, _ in pairs if k == key) > 1
        return obj

    stack: list[tuple[str, Any]] = [("", json.loads(text, object_pairs_hook=hook))]
    while stack:
        path, value = stack.pop(0)
        if isinstance(value, Marked) and value.repeated:
            return f"{path}/{key}"
        if isinstance(value, dict):
            stack.extend((f"{path}/{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}/{i}", v) for i, v in enumerate(value))
    return f"/{key}"


def decode_strict(raw: bytes, model: type[T]) -> T:
    """``raw`` as a ``model``, with no coercion: JSON types must match the schema exactly,
    and no object may repeat a key."""
    decoder = _decoders.get(model)
    if decoder is None:
        decoder = _decoders.setdefault(model, msgspec.json.Decoder(model))
    try:
        value = decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise explain(str(exc), model) from exc
    except msgspec.DecodeError as exc:
        raise InvalidInputError.of(
            "the body is not valid JSON ({reason}); send one JSON object, e.g. {example}",
            pointer="",
            reason=str(exc),
            example='{"fund": "senyum-2026", ...}',
        ) from exc
    except RecursionError:
        raise too_deep() from None
    check_unique_keys(raw)
    return value


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
        check_json_media_type(self.asgi_connection.headers.get("content-type"))
        return decode_strict(value, self._models[self.asgi_connection.route_handler.handler_id])

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        model = self._models[self.asgi_connection.route_handler.handler_id]
        try:
            return msgspec.convert(value, model, strict=True)
        except msgspec.ValidationError as exc:
            raise explain(str(exc), model) from exc

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator
    ) -> Reference | Schema:
        schema = schema_creator.for_field_definition(field_definition)
        _closed(schema, schema_creator, set())
        return schema


def _closed(schema: Reference | Schema, creator: SchemaCreator, seen: set[int]) -> None:
    """Say ``additionalProperties: false`` on every object of a request body, as decoding
    does (every wire document forbids unknown members, ``schemas.base.Document``), and list
    the currency codes it accepts, so that a client generator or a fuzzer knows what is
    refused. (Litestar does not carry msgspec's ``extra_json_schema`` over.)"""
    if isinstance(schema, Reference):
        schema = creator.schema_registry.from_reference(schema).schema
    if id(schema) in seen:
        return
    seen.add(id(schema))
    if schema.properties is not None and schema.additional_properties is None:
        schema.additional_properties = False
    if schema.pattern == CURRENCY_PATTERN and schema.enum is None:
        schema.enum = sorted(active_currencies())  # what decoding accepts, not just the form
    if schema.title in _MEMBERS_TOGETHER:
        _MEMBERS_TOGETHER[schema.title](schema)
    for child in (
        *(schema.properties or {}).values(),
        *(schema.one_of or ()),
        *(schema.any_of or ()),
        *(schema.all_of or ()),
        *((schema.items,) if isinstance(schema.items, (Schema, Reference)) else ()),
    ):
        _closed(child, creator, seen)


def _fund_rule(schema: Schema) -> None:
    """A gateway's fund rule (``schemas.gateways.FundRule``): what its ``__post_init__`` and
    its mapping's key and value types require, which Litestar's schema leaves out."""
    props = schema.properties or {}
    props["funds"] = Schema(
        type=OpenAPIType.OBJECT,
        property_names=Schema(type=OpenAPIType.STRING, min_length=1, max_length=60),
        additional_properties=Schema(type=OpenAPIType.STRING, pattern=CODE_PATTERN),
        max_properties=100,
        description="Prefix (or custom-field value) to fund code.",
    )
    # Funds to choose from, or a default. (Each branch constrains only its member: the
    # object itself is closed above, so the branches say nothing about the others.)
    schema.any_of = [
        Schema(
            required=["funds"],
            properties={"funds": Schema(min_properties=1)},
            additional_properties=True,
        ),
        Schema(
            required=["default"],
            properties={"default": Schema(type=OpenAPIType.STRING)},
            additional_properties=True,
        ),
    ]
    schema.schema_if = Schema(  # a custom_field rule names its field
        required=["by"], properties={"by": Schema(const="custom_field")}
    )
    schema.then = Schema(required=["field"], properties={"field": Schema(type=OpenAPIType.STRING)})


_MEMBERS_TOGETHER: dict[str, Callable[[Schema], None]] = {"FundRule": _fund_rule}
"""Request documents whose members constrain each other (or whose mappings' keys and values
are constrained), by component title: their full JSON Schema."""
