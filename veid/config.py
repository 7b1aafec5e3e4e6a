"""Typed configuration: each ``params.yaml`` section becomes a frozen dataclass.

Library code never reads files; entry points call :func:`load_section` (or
:func:`load_params`) and pass the resulting dataclass down. Unknown keys, missing keys
and wrong types are rejected with a :class:`~veid.errors.ConfigError` that names the key
path and the file.

Example::

    @dataclass(frozen=True)
    class OcrConfig:
        psm: int = 7
        whitelist: str = ""

    cfg = load_section("params.yaml", "ocr", OcrConfig)
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from veid.errors import ConfigError

T = TypeVar("T")

DEFAULT_PARAMS = Path(__file__).resolve().parent.parent / "params.yaml"


def load_params(path: str | Path = DEFAULT_PARAMS) -> dict[str, Any]:
    """Read a params file into a plain mapping of section name to raw values.

    Args:
        path: the YAML file (default: the repository's ``params.yaml``).

    Raises:
        ConfigError: the file is missing, not YAML, or not a mapping at the top level.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read params file ({exc.strerror})") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping of sections, got {type(raw).__name__}")
    return raw


def load_section(path: str | Path, section: str, cls: type[T]) -> T:
    """Load one section of a params file into the frozen dataclass ``cls``.

    Args:
        path: the YAML file.
        section: top-level key; a dotted path (``"train.craft"``) reaches nested mappings.
        cls: a dataclass whose fields mirror the section.

    Raises:
        ConfigError: the section is missing, or a key is unknown, missing or mistyped.
    """
    raw: Any = load_params(path)
    for part in section.split("."):
        if not isinstance(raw, dict) or part not in raw:
            raise ConfigError(f"{path}: missing section '{section}'")
        raw = raw[part]
    return from_mapping(cls, raw, source=str(path), where=section)


def from_mapping(cls: type[T], raw: Any, *, source: str = "<mapping>", where: str = "") -> T:
    """Build the dataclass ``cls`` from a mapping, checking keys and types recursively.

    Args:
        cls: target dataclass type.
        raw: the mapping (for example one parsed YAML section).
        source: file name used in error messages.
        where: key path used in error messages.
    """
    return _convert(cls, raw, source, where or cls.__name__)


def to_mapping(obj: Any) -> Any:
    """Turn a config dataclass back into plain YAML/JSON-friendly values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_mapping(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (tuple, list)):
        return [to_mapping(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_mapping(v) for k, v in obj.items()}
    return obj


def _fail(source: str, where: str, message: str) -> ConfigError:
    return ConfigError(f"{source}: key '{where}': {message}")


def _convert(tp: Any, value: Any, source: str, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return _convert_dataclass(tp, value, source, where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(arg, value, source, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise _fail(source, where, f"value {value!r} matches none of {tp}")
    if origin is typing.Literal:
        if value not in args:
            raise _fail(source, where, f"must be one of {list(args)}, got {value!r}")
        return value
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            allowed = [m.value for m in tp]
            raise _fail(source, where, f"must be one of {allowed}, got {value!r}") from None
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise _fail(source, where, f"expected a list, got {type(value).__name__}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise _fail(source, where, f"expected {len(args)} items, got {len(value)}")
            items = [_convert(a, v, source, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value))]
        else:
            item_tp = args[0] if args else Any
            items = [_convert(item_tp, v, source, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(source, where, f"expected a mapping, got {type(value).__name__}")
        ktp, vtp = args or (Any, Any)
        return {
            _convert(ktp, k, source, f"{where}.{k}"): _convert(vtp, v, source, f"{where}.{k}")
            for k, v in value.items()
        }
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(source, where, f"expected a number, got {type(value).__name__} {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(source, where, f"expected an integer, got {type(value).__name__} {value!r}")
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise _fail(source, where, f"expected {tp.__name__}, got {type(value).__name__} {value!r}")
        return value
    raise _fail(source, where, f"unsupported config type {tp!r}")


def _convert_dataclass(cls: Any, value: Any, source: str, where: str) -> Any:
    if not isinstance(value, dict):
        raise _fail(source, where, f"expected a mapping, got {type(value).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise _fail(source, f"{where}.{unknown[0]}", f"unknown key (allowed: {sorted(fields)})")
    kwargs = {}
    for name, field in fields.items():
        if name not in value:
            has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
            if not has_default:
                raise _fail(source, f"{where}.{name}", "missing required key")
            continue
        kwargs[name] = _convert(hints[name], value[name], source, f"{where}.{name}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise _fail(source, where, str(exc)) from exc
