"""Records across a process boundary in plain containers: what pickle sends, without its per-model overhead.

Pickling a pydantic model goes through `__reduce_ex__` and `copyreg` for the record and every nested model
(lessons, instructors, theme evidence); a rebuild pool sends a million of them. `pack` turns a record into
tuples and dicts of its field values (nested models likewise), `unpack` puts the models back through
pydantic's own `__setstate__`, so the record that arrives equals the one sent, fields-set and private
attributes (the builder's folds) included.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any

from pydantic import BaseModel

from indexer.record import Record

Packed = tuple[Any, ...]
"""(fields set, field values with nested models packed, private attributes)."""


def pack(record: Record) -> Packed:
    """The record as plain containers, for pickling."""
    return _pack(record)


def unpack(packed: Packed) -> Record:
    """The record `pack` was given."""
    return _unpack(Record, packed)


def _pack(model: BaseModel) -> Packed:
    values = dict(model.__dict__)
    for name, (many, _) in _nested_fields(type(model)).items():
        value = values[name]
        if value is None:
            continue
        values[name] = [_pack(item) for item in value] if many else _pack(value)
    return model.__pydantic_fields_set__, values, model.__pydantic_private__


def _unpack(cls: type[BaseModel], packed: Packed) -> Any:
    fields_set, values, private = packed
    for name, (many, inner) in _nested_fields(cls).items():
        value = values[name]
        if value is None:
            continue
        values[name] = [_unpack(inner, item) for item in value] if many else _unpack(inner, value)
    model = cls.__new__(cls)
    model.__setstate__({"__dict__": values, "__pydantic_fields_set__": fields_set, "__pydantic_extra__": None,
                        "__pydantic_private__": private})  # fmt: skip
    return model


@cache
def _nested_fields(cls: type[BaseModel]) -> dict[str, tuple[bool, type[BaseModel]]]:
    """Fields of `cls` holding a model (`X`, `X | None`) or a list of models (`list[X]`): name -> (list?, X)."""
    nested: dict[str, tuple[bool, type[BaseModel]]] = {}
    for name, info in cls.model_fields.items():
        found = _model_in(info.annotation)
        if found is not None:
            nested[name] = found
    return nested


def _model_in(annotation: Any) -> tuple[bool, type[BaseModel]] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return False, annotation
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return True, args[0]
    if origin in (typing.Union, types.UnionType):
        models = [found for arg in args if arg is not type(None) and (found := _model_in(arg)) is not None]
        if len(models) == 1 and not models[0][0] and len(args) == 2:
            return models[0]
        if models:
            raise TypeError(f"record_transfer cannot send a field typed {annotation!r}: teach it this shape")
    return None
