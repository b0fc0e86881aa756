"""Walk a raw JSON answer against an Azure SDK's generated model class.

Deserializing is not enough: the models drop fields they do not know, silently. So the walk
goes through the model's own field table, recursively, and reports, with the JSON path:
- a field the model does not declare (unless the model itself declares `additional_properties`);
- a value of the wrong JSON type for the field;
- a value of an enum-typed field that is not one of the enum's members (compared exactly);
- a field `_validation` marks required that is absent, or a value outside its constraints.

Two generations of generated code are understood: msrest-style models (`_attribute_map`,
`_validation`, `_subtype_map`, enums named in the class docstring's `:vartype:` lines) as in the
azure-mgmt-* packages, and TypeSpec-style models (`rest_field`, typed annotations) as in
azure-keyvault-keys' `_generated.models`.
"""

from __future__ import annotations

import base64
import datetime
import enum
import importlib
import re
import sys
import typing
from collections.abc import Callable
from typing import Any

Problems = list[str]

_UNESCAPED_DOT = re.compile(r"(?<!\\)\.")
_VARTYPE = re.compile(r":vartype (\w+):(.*?)(?=\n\s*:(?:ivar|vartype)\b|\Z)", re.S)
_ENUM_REF = re.compile(r"~[\w.]+\.(\w+)")


def _models_package(cls: type) -> Any:
    """The `models` package that exports `cls` and its siblings (models and enums)."""
    module = cls.__module__
    while module and not module.endswith(".models"):
        module = module.rsplit(".", 1)[0] if "." in module else ""
    return importlib.import_module(module or cls.__module__)


def _enum(models: Any, name: str) -> type[enum.Enum] | None:
    found = getattr(models, name, None)
    return found if isinstance(found, type) and issubclass(found, enum.Enum) else None


def _members(e: type[enum.Enum]) -> set[Any]:
    return {m.value for m in e}


def is_iso(value: object) -> bool:
    if not isinstance(value, str):
        return False
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("Z", "+00:00"))
    try:
        datetime.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


# -- msrest-style models (azure-mgmt-*) ----------------------------------------------------------------
_PRIMITIVES: dict[str, Callable[[object], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "iso-8601": is_iso,
    "unix-time": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "duration": lambda v: isinstance(v, str),
    "date": lambda v: isinstance(v, str),
    "rfc-1123": lambda v: isinstance(v, str),
    "base64": lambda v: isinstance(v, str),
    "bytearray": lambda v: isinstance(v, str),
    "object": lambda v: True,
}


def _msrest_enums(cls: type) -> dict[str, type[enum.Enum]]:
    """attribute -> enum, from the `:vartype attr: str or ~pkg.models.SomeEnum` lines of the MRO."""
    models = _models_package(cls)
    found: dict[str, type[enum.Enum]] = {}
    for klass in reversed(cls.__mro__):
        for attr, text in _VARTYPE.findall(klass.__doc__ or ""):
            for name in _ENUM_REF.findall(text):
                if e := _enum(models, name):
                    found[attr] = e
    return found


def _trie(cls: type) -> dict[str, Any]:
    """The JSON layout of an msrest model: nested segments of its flattened keys down to
    leaves `(attribute, type)`."""
    root: dict[str, Any] = {}
    for attr, spec in cls._attribute_map.items():  # type: ignore[attr-defined]
        parts = [p.replace("\\.", ".") for p in _UNESCAPED_DOT.split(spec["key"])]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = (attr, spec["type"])
    return root


def _subtype(cls: type, value: dict[str, Any]) -> type:
    """The subclass a discriminator selects (`_subtype_map`), or `cls`."""
    subtypes = getattr(cls, "_subtype_map", None) or {}
    models = _models_package(cls)
    for field, mapping in subtypes.items():
        key = cls._attribute_map[field]["key"]  # type: ignore[attr-defined]
        chosen = mapping.get(value.get(key))
        if chosen and (sub := getattr(models, chosen, None)):
            return _subtype(sub, value) if sub is not cls else cls
    return cls


def _lookup(value: dict[str, Any], key: str) -> tuple[bool, Any]:
    node: Any = value
    for part in _UNESCAPED_DOT.split(key):
        if not isinstance(node, dict) or part.replace("\\.", ".") not in node:
            return False, None
        node = node[part.replace("\\.", ".")]
    return True, node


def _constraints(rules: dict[str, Any], value: Any, path: str, out: Problems) -> None:
    if value is None:
        return
    if "pattern" in rules and isinstance(value, str) and not re.search(rules["pattern"], value):
        out.append(f"{path}: {value!r} does not match the pattern {rules['pattern']!r}")
    if isinstance(value, str | list):
        if "max_length" in rules and len(value) > rules["max_length"]:
            out.append(f"{path}: longer than {rules['max_length']}")
        if "min_length" in rules and len(value) < rules["min_length"]:
            out.append(f"{path}: shorter than {rules['min_length']}")
        if "max_items" in rules and len(value) > rules["max_items"]:
            out.append(f"{path}: more than {rules['max_items']} items")
        if "min_items" in rules and len(value) < rules["min_items"]:
            out.append(f"{path}: fewer than {rules['min_items']} items")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "maximum" in rules and value > rules["maximum"]:
            out.append(f"{path}: {value} is above the maximum {rules['maximum']}")
        if "minimum" in rules and value < rules["minimum"]:
            out.append(f"{path}: {value} is below the minimum {rules['minimum']}")


def check_msrest(value: Any, cls: type, path: str = "$") -> Problems:
    """Every way `value` (raw JSON) departs from the msrest model `cls`."""
    out: Problems = []
    _msrest_model(value, cls, path, out)
    return out


def _msrest_model(value: Any, cls: type, path: str, out: Problems) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        out.append(f"{path}: expected an object ({cls.__name__}), got {type(value).__name__}")
        return
    cls = _subtype(cls, value)
    attribute_map = cls._attribute_map  # type: ignore[attr-defined]
    for attr, rules in (getattr(cls, "_validation", None) or {}).items():
        if attr not in attribute_map:
            continue
        present, found = _lookup(value, attribute_map[attr]["key"])
        if rules.get("required") and not rules.get("readonly") and not present:
            out.append(f"{path}.{attribute_map[attr]['key']}: required by {cls.__name__}, absent")
        if present:
            _constraints(rules, found, f"{path}.{attribute_map[attr]['key']}", out)
    _msrest_layer(value, _trie(cls), cls, _msrest_enums(cls), path, out)


def _msrest_layer(
    value: dict[str, Any],
    layer: dict[str, Any],
    cls: type,
    enums: dict[str, type[enum.Enum]],
    path: str,
    out: Problems,
) -> None:
    open_ended = isinstance(
        layer.get(""), tuple
    )  # `additional_properties`: the model takes any key
    for key, item in value.items():
        where = f"{path}.{key}"
        spec = layer.get(key)
        if spec is None:
            if not open_ended:
                out.append(f"{where}: {cls.__name__} has no such field")
            continue
        if isinstance(spec, dict):
            if item is None:
                continue
            if not isinstance(item, dict):
                out.append(f"{where}: expected an object, got {type(item).__name__}")
                continue
            _msrest_layer(item, spec, cls, enums, where, out)
            continue
        attr, kind = spec
        _msrest_value(item, kind, enums.get(attr), cls, where, out)


def _msrest_value(
    item: Any, kind: str, members: type[enum.Enum] | None, owner: type, path: str, out: Problems
) -> None:
    if item is None:
        return
    if kind.startswith("[") and kind.endswith("]"):
        if not isinstance(item, list):
            out.append(f"{path}: expected a list, got {type(item).__name__}")
            return
        for i, element in enumerate(item):
            _msrest_value(element, kind[1:-1], members, owner, f"{path}[{i}]", out)
        return
    if kind.startswith("{") and kind.endswith("}"):
        if not isinstance(item, dict):
            out.append(f"{path}: expected an object (map), got {type(item).__name__}")
            return
        for k, element in item.items():
            _msrest_value(element, kind[1:-1], members, owner, f"{path}[{k!r}]", out)
        return
    if kind in _PRIMITIVES:
        if not _PRIMITIVES[kind](item):
            out.append(f"{path}: {item!r} is not a valid {kind}")
        elif members is not None and item not in _members(members):
            out.append(
                f"{path}: {item!r} is not a member of {members.__name__} {sorted(_members(members))}"
            )
        return
    models = _models_package(owner)
    target = getattr(models, kind, None) or getattr(sys.modules[owner.__module__], kind, None)
    if isinstance(target, type) and issubclass(target, enum.Enum):
        if item not in _members(target):
            out.append(f"{path}: {item!r} is not a member of {kind}")
        return
    if not isinstance(target, type) or not hasattr(target, "_attribute_map"):
        out.append(f"{path}: the model names an unknown type {kind!r}")
        return
    _msrest_model(item, target, path, out)


# -- TypeSpec-style models (azure-keyvault-keys' _generated.models) ------------------------------------
def _rest_fields(cls: type) -> dict[str, tuple[str, Any, Any]]:
    """JSON name -> (attribute, annotation, format) for a TypeSpec model."""
    cls()  # the model computes its field table on first construction
    hints = typing.get_type_hints(
        cls, globalns={**vars(sys.modules[cls.__module__]), "_models": _models_package(cls)}
    )
    table = cls._attr_to_rest_field  # type: ignore[attr-defined]
    return {rf._rest_name: (attr, hints.get(attr), rf._format) for attr, rf in table.items()}


def check_typespec(value: Any, cls: type, path: str = "$") -> Problems:
    """Every way `value` (raw JSON) departs from the TypeSpec-generated model `cls`."""
    out: Problems = []
    _typespec_value(value, cls, None, path, out)
    return out


def _typespec_value(value: Any, hint: Any, fmt: Any, path: str, out: Problems) -> None:
    if value is None:
        return
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        choices = [a for a in args if a is not type(None)]
        enums = [a for a in choices if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums:
            if not isinstance(value, str) or value not in _members(enums[0]):
                out.append(
                    f"{path}: {value!r} is not a member of {enums[0].__name__} {sorted(_members(enums[0]))}"
                )
            return
        if len(choices) == 1:
            _typespec_value(value, choices[0], fmt, path, out)
        return
    if origin in (list, typing.List):  # noqa: UP006 - generated code annotates with typing.List
        if not isinstance(value, list):
            out.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, element in enumerate(value):
            _typespec_value(element, args[0], fmt, f"{path}[{i}]", out)
        return
    if origin in (dict, typing.Dict):  # noqa: UP006
        if not isinstance(value, dict):
            out.append(f"{path}: expected an object (map), got {type(value).__name__}")
            return
        for k, element in value.items():
            _typespec_value(element, args[1], fmt, f"{path}[{k!r}]", out)
        return
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        if value not in _members(hint):
            out.append(f"{path}: {value!r} is not a member of {hint.__name__}")
        return
    if _is_typespec_model(hint):
        if not isinstance(value, dict):
            out.append(f"{path}: expected an object ({hint.__name__}), got {type(value).__name__}")
            return
        fields = _rest_fields(hint)
        for key, item in value.items():
            if key not in fields:
                out.append(f"{path}.{key}: {hint.__name__} has no such field")
                continue
            _, annotation, field_format = fields[key]
            _typespec_value(item, annotation, field_format, f"{path}.{key}", out)
        return
    _typespec_primitive(value, hint, fmt, path, out)


def _is_typespec_model(hint: Any) -> bool:
    """A TypeSpec model class (its field table exists only once one instance was built)."""
    return isinstance(hint, type) and any(
        base.__module__.endswith("model_base") and base.__name__ == "Model"
        for base in hint.__mro__[1:]
    )


def _typespec_primitive(value: Any, hint: Any, fmt: Any, path: str, out: Problems) -> None:
    ok: bool
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif hint is str:
        ok = isinstance(value, str)
    elif hint is datetime.datetime:
        if fmt == "unix-timestamp":
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = is_iso(value)
    elif hint is bytes:
        ok = isinstance(value, str) and _base64url(value)
    else:
        ok = True  # Any, object
    if not ok:
        out.append(f"{path}: {value!r} is not a valid {getattr(hint, '__name__', hint)} ({fmt})")


def _base64url(text: str) -> bool:
    try:
        base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return False
    return True
