"""Adaptor body templates: sandboxed Jinja2 whose output is always a valid JSON, XML or form body.

A template sees ``lead`` (``{"id", "fields"}``), ``fields`` (the lead's values), ``mapped`` (the
adaptor's mapped values and constants, nested by dotted targets) and ``constants``
(``{name: value}``). Missing values are empty, never an error (``fields.a.b`` of a missing ``a``
is ""). Templates may not include, import or extend other templates.

Escaping — every ``{{ value }}`` is escaped for the body's format, so a lead value with quotes,
``<``, ``&``, newlines or any Unicode cannot break the document:

* json: the value's text is JSON-string-escaped *without* the surrounding quotes, so write
  ``"name": "{{ fields.first_name }}"``. Numbers and booleans read as ``42``/``true`` and so also
  work unquoted; for anything else unquoted (lists, objects, null) use the ``tojson`` (alias
  ``json``) filter: ``"tags": {{ fields.tags|tojson }}``, ``{{ mapped|tojson }}``. ``tojson``
  output is inserted as is in JSON bodies (and escaped like any text in XML and form bodies).
* xml: the text is XML-escaped (``& < > " '`` and tab/CR/LF as character references, so it is
  safe in element content and in attribute values) and characters XML 1.0 cannot carry (C0
  controls other than tab/CR/LF, lone surrogates, U+FFFE/U+FFFF) are *removed*.
* form: the text is percent-encoded as in ``application/x-www-form-urlencoded``
  (``a={{ fields.first_name }}&b=...``).
* text: no escaping (not an adaptor body format: ``FORMATS`` lists those). For other callers
  whose output has no structure to protect, such as an inbound handler's plain-text answer.

One sandbox for every template a tenant writes: inbound handler answers render here too.
``field`` (default ``body_template``) names the setting in messages and on the errors.

Text: ``None`` and missing values are "", booleans ``true``/``false``, lists are joined with the
adaptor's delimiter, objects are compact JSON. Output the template itself produced (a macro call,
a ``{% set x %}…{% endset %}`` block) is already escaped and is inserted as is.

Filters: the transforms (``upper lower title trim digits phone_e164 phone_10 date(fmt)
truncate(n) prefix(text) suffix(text)`` and ``lookup({...})`` for ``map:``), ``tojson``/``json``
and the harmless Jinja built-ins (``default join replace length first last sort …``).

Cost is bounded: templates are at most 64 KiB, output at most 1 MiB (or the caller's lower
cap), any single value at most 1 MiB; loops, calls and filters share a budget of 100,000 steps
and 64 Mi characters of work; ``range`` is capped at 10,000. Sandbox escapes
(``''.__class__``, private attributes, mutating methods, ``str.format``) are refused. Every
failure is a ``TemplateRejected`` (syntax, security, limits: also reported when the adaptor is
saved) or another ``RenderError``.

Templates are compiled once per (format, source, field) and kept in a small LRU cache.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from functools import lru_cache, wraps
from typing import Any
from urllib.parse import quote_plus

from jinja2 import ChainableUndefined, Template, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import Macro, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from .errors import RenderError, TemplateRejected
from .transforms import NAMES as TRANSFORM_NAMES
from .transforms import TransformError, as_text, build_step

MAX_TEMPLATE_CHARS = 64 * 1024
MAX_OUTPUT_BYTES = 1024 * 1024
MAX_VALUE_CHARS = 1024 * 1024
MAX_STEPS = 100_000
MAX_WORK_CHARS = 64 * 1024 * 1024
MAX_RANGE = 10_000
MAX_EXPONENT = 100

# The formats of adaptor bodies (what ``body_template`` is validated against).
FORMATS = ("json", "xml", "form")
# ``text``: no escaping at all, for callers whose output is not a structured body (the inbound
# handler's plain-text answers). Not an adaptor body format.
TEXT = "text"
ALL_FORMATS = (*FORMATS, TEXT)
DEFAULT_FIELD = "body_template"

# Characters XML 1.0 cannot carry at all (a character reference would not help either).
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&apos;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)
# Methods a template may call on plain values: none of them mutates or grows a value.
# fmt: off
_SAFE_METHODS = frozenset((
    "upper", "lower", "title", "capitalize", "casefold", "strip", "lstrip", "rstrip",
    "split", "rsplit", "splitlines", "partition", "rpartition", "startswith", "endswith",
    "find", "rfind", "count", "removeprefix", "removesuffix", "isdigit", "isalpha",
    "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal",
    "items", "keys", "values", "get", "index",
))
# fmt: on


class JsonText(str):
    """Output of ``tojson``: already valid JSON, inserted as is into JSON bodies."""


class Rendered(str):
    """Text the template produced itself (macro output, set blocks): already escaped."""


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    return XML_INVALID.sub("", text)


def escape_xml(text: str) -> str:
    return xml_text(text).translate(_XML_ESCAPES)


def escape_json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


_ESCAPES: dict[str, Callable[[str], str]] = {
    "json": escape_json,
    "xml": escape_xml,
    "form": quote_plus,
    TEXT: str,
}


class _Budget:
    """What one render may still spend; lives in a ContextVar for the render's duration."""

    __slots__ = ("steps", "work", "delimiter", "escape", "field")

    def __init__(self, delimiter: str, escape: Callable[[str], str], field: str):
        self.steps = MAX_STEPS
        self.work = MAX_WORK_CHARS
        self.delimiter = delimiter
        self.escape = escape
        self.field = field


_BUDGET: ContextVar[_Budget | None] = ContextVar("adaptor_template_budget", default=None)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple, dict)) else 0


def _spend(value: Any = None) -> Any:
    """Count one step (and the size of ``value``) against the render's budget."""
    size = _size(value)
    if size > MAX_VALUE_CHARS:
        raise SecurityError(f"a value grew beyond {MAX_VALUE_CHARS:,} characters.")
    budget = _BUDGET.get()
    if budget is not None:
        budget.steps -= 1
        budget.work -= size
        if budget.steps < 0:
            raise SecurityError(f"the template does more than {MAX_STEPS:,} steps (loops, calls).")
        if budget.work < 0:
            raise SecurityError("the template builds too much text.")
    return value


def display_text(value: Any) -> str:
    """How a value reads inside the body: see the module docstring."""
    if isinstance(value, Undefined):
        return ""
    if isinstance(value, (list, tuple)):
        budget = _BUDGET.get()
        delimiter = budget.delimiter if budget is not None else ","
        return delimiter.join(as_text(item) for item in value)
    return as_text(value)


def _finalizer(fmt: str) -> Callable[[Any], str]:
    escape = _ESCAPES[fmt]

    def finalize(value: Any) -> str:
        if isinstance(value, Rendered) or (fmt == "json" and isinstance(value, JsonText)):
            return value
        return escape(display_text(value))

    return finalize


# --- filters ------------------------------------------------------------------------------


def _tojson(value: Any) -> JsonText:
    if isinstance(value, Undefined):
        return JsonText("null")
    return JsonText(
        json.dumps(value, ensure_ascii=False, default=lambda v: display_text(v) or None)
    )


def _join(value: Any, d: str = "") -> str:
    items = [as_text(item) for item in (value if isinstance(value, Iterable) else [value])]
    sep = as_text(d)
    if sum(map(len, items)) + len(sep) * max(len(items) - 1, 0) > MAX_VALUE_CHARS:
        raise SecurityError(f"join would build more than {MAX_VALUE_CHARS:,} characters.")
    return sep.join(items)


def _replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text, old, new = as_text(value), as_text(old), as_text(new)
    hits = text.count(old) if old else len(text) + 1
    if count is not None:
        hits = min(hits, max(int(count), 0))
    if len(text) + hits * (len(new) - len(old)) > MAX_VALUE_CHARS:
        raise SecurityError(f"replace would build more than {MAX_VALUE_CHARS:,} characters.")
    return text.replace(old, new, -1 if count is None else int(count))


def _transform_filter(name: str) -> Callable[..., Any]:
    """A transform step as a filter: ``fields.dob|date('%m/%d/%Y')``, lists element-wise."""

    def apply(value: Any, *args: Any) -> Any:
        try:
            step = build_step(name, args[0] if args else None)
        except TransformError as exc:
            budget = _BUDGET.get()
            field = budget.field if budget is not None else DEFAULT_FIELD
            raise TemplateRejected(f"{field}: filter {exc}", field=field) from exc
        if isinstance(value, (list, tuple)):
            return [step(item) for item in value]
        return step(value)

    apply.__name__ = name
    return apply


def _hub_iter(value: Any) -> Iterable[Any]:
    for item in value:
        _spend()
        yield item


def _hub_concat(parts: list[Any]) -> str:
    budget = _BUDGET.get()
    if budget is not None and any(isinstance(part, Rendered) for part in parts):
        escape = budget.escape
        text = [p if isinstance(p, Rendered) else escape(display_text(p)) for p in parts]
        return _spend(Rendered("".join(text)))
    text = [display_text(part) for part in parts]
    if sum(map(len, text)) > MAX_VALUE_CHARS:
        raise SecurityError(f"a value grew beyond {MAX_VALUE_CHARS:,} characters.")
    return _spend("".join(text))


def _hub_block(value: Any) -> Rendered:
    return _spend(Rendered(value))


def _counted(function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)  # keeps Jinja's pass_context/pass_environment marker
    def counted(*args: Any, **kwargs: Any) -> Any:
        return _spend(function(*args, **kwargs))

    return counted


# Jinja built-ins that cannot amplify a value (center, indent, format, batch… are left out).
# fmt: off
_JINJA_KEPT = (
    "abs", "capitalize", "count", "default", "d", "dictsort", "first", "float", "groupby",
    "int", "items", "last", "length", "list", "map", "max", "min", "reject", "rejectattr",
    "reverse", "round", "select", "selectattr", "sort", "string", "sum", "unique",
    "urlencode", "wordcount",
)
# fmt: on
# The transforms as filters; ``map`` is Jinja's own filter, so the lookup table is ``lookup``.
_TRANSFORM_FILTERS = {name: name for name in TRANSFORM_NAMES if name != "map"} | {"lookup": "map"}


def _filters() -> dict[str, Callable[..., Any]]:
    table: dict[str, Callable[..., Any]] = {name: JINJA_FILTERS[name] for name in _JINJA_KEPT}
    table |= {name: _transform_filter(step) for name, step in _TRANSFORM_FILTERS.items()}
    table |= {"join": _join, "replace": _replace, "tojson": _tojson, "json": _tojson}
    table = {name: _counted(function) for name, function in table.items()}
    # Internal filters the compiler inserts (see _Harden); not counted twice.
    table |= {"hub_iter": _hub_iter, "hub_concat": _hub_concat, "hub_block": _hub_block}
    return table


def _capped_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() is limited to {MAX_RANGE:,} items.")
    return numbers


# --- the sandbox --------------------------------------------------------------------------


class _Sandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox that also bounds operators, calls and private attribute access."""

    intercepted_binops = frozenset({"+", "*", "%", "**"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, (str, list, tuple, dict, int, float)) and callable(value):
            return attr in _SAFE_METHODS
        return True

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(
            f"access to {attribute!r} of a {type(obj).__name__} value is not allowed."
        )

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format is not among the safe methods at all

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            raise SecurityError("'%' formatting is not available; join text with ~.")
        if operator == "*":
            seq, times = (left, right) if isinstance(left, (str, list, tuple)) else (right, left)
            sized = isinstance(seq, (str, list, tuple)) and isinstance(times, int)
            if sized and len(seq) * times > MAX_VALUE_CHARS:
                raise SecurityError(f"a value grew beyond {MAX_VALUE_CHARS:,} characters.")
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponents are limited to {MAX_EXPONENT}.")
        return _spend(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        result = _spend(super().call(__context, __obj, *args, **kwargs))
        if isinstance(__obj, Macro) and isinstance(result, str):
            return Rendered(result)
        return result


def _reject(field: str, node: nodes.Node, message: str) -> TemplateRejected:
    return TemplateRejected(f"{field} line {node.lineno}: {message}", field=field)


def _filter(node: nodes.Node | None, name: str, lineno: int) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=lineno)


class _Harden(NodeTransformer):
    """Refuses what the sandbox should never see and routes loops/joins through the budget."""

    def __init__(self, field: str):
        self.field = field

    def visit_For(self, node: nodes.For) -> nodes.For:
        if node.recursive:
            raise _reject(self.field, node, "recursive loops are not supported.")
        self.generic_visit(node)
        node.iter = _filter(node.iter, "hub_iter", node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Filter:
        self.generic_visit(node)
        return _filter(nodes.List(node.nodes, lineno=node.lineno), "hub_concat", node.lineno)

    def visit_AssignBlock(self, node: nodes.AssignBlock) -> nodes.AssignBlock:
        self.generic_visit(node)
        node.filter = _filter(node.filter, "hub_block", node.lineno)
        return node

    def visit_Getattr(self, node: nodes.Getattr) -> nodes.Node:
        if node.attr.startswith("_"):
            raise _reject(self.field, node, f"access to {node.attr!r} is not allowed.")
        return self.generic_visit(node)

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Node:
        arg = node.arg
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str) and arg.value[:1] == "_":
            raise _reject(self.field, node, f"access to {arg.value!r} is not allowed.")
        return self.generic_visit(node)

    def _unsupported(self, node: nodes.Node) -> nodes.Node:
        tag = _TAGS.get(type(node).__name__, type(node).__name__.lower())
        raise _reject(self.field, node, f"{{% {tag} %}} is not supported.")

    visit_Extends = visit_Include = visit_Import = visit_FromImport = _unsupported
    visit_FilterBlock = _unsupported


_TAGS = {"FromImport": "from … import", "FilterBlock": "filter"}


def _environment(fmt: str) -> _Sandbox:
    env = _Sandbox(
        autoescape=False,
        finalize=_finalizer(fmt),
        undefined=ChainableUndefined,
        optimized=False,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters = _filters()
    env.globals = {"range": _capped_range, "dict": dict}
    return env


_ENVIRONMENTS = {fmt: _environment(fmt) for fmt in ALL_FORMATS}


@lru_cache(maxsize=256)
def _compile(fmt: str, source: str, field: str) -> tuple[Template | None, str]:
    """``(template, "")`` or ``(None, why)``; failures are cached too, they are just as costly.

    ``field`` is part of the key only because it is part of the message of a failure.
    """
    if len(source) > MAX_TEMPLATE_CHARS:
        return None, f"{field} is longer than {MAX_TEMPLATE_CHARS:,} characters."
    env = _ENVIRONMENTS[fmt]
    try:
        tree = _Harden(field).visit(env.parse(source))
        tree.set_environment(env)
        return env.from_string(tree), ""
    except TemplateSyntaxError as exc:
        return None, f"{field} line {exc.lineno}: {exc.message}"
    except TemplateRejected as exc:
        return None, str(exc)
    except RecursionError:
        return None, f"{field}: expressions nest too deeply."


def compile_template(fmt: str, source: str, *, field: str = DEFAULT_FIELD) -> Template:
    """The compiled template for ``fmt`` (json, xml, form or text); raises TemplateRejected.

    ``field`` names the setting the source comes from, in messages and ``TemplateRejected.field``.
    """
    if fmt not in _ENVIRONMENTS:
        raise RenderError(f"unknown body format {fmt!r}.")
    template, problem = _compile(fmt, source, field)
    if template is None:
        raise TemplateRejected(problem, field=field)
    return template


def render_template(
    fmt: str,
    source: str,
    context: Mapping[str, Any],
    *,
    delimiter: str = ",",
    field: str = DEFAULT_FIELD,
    max_output: int = MAX_OUTPUT_BYTES,
) -> str:
    """Render ``source`` with ``fmt`` escaping; raises TemplateRejected or RenderError.

    ``field`` names the setting in messages and on the errors; ``max_output`` caps the output
    (at most MAX_OUTPUT_BYTES: a larger value is lowered to it).
    """
    template = compile_template(fmt, source, field=field)
    limit = min(max_output, MAX_OUTPUT_BYTES)
    token = _BUDGET.set(_Budget(delimiter, _ESCAPES[fmt], field))
    chunks: list[str] = []
    size = 0
    try:
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > limit:
                raise TemplateRejected(
                    f"{field} output is larger than {limit:,} bytes.", field=field
                )
            chunks.append(chunk)
    except RenderError:
        raise
    except SecurityError as exc:
        raise TemplateRejected(f"{field}: {exc}", field=field) from exc
    except (
        TemplateError,
        ArithmeticError,
        LookupError,
        TypeError,
        ValueError,
        AttributeError,
    ) as exc:
        raise RenderError(f"{field}: {exc}", field=field) from exc
    except RecursionError as exc:
        raise TemplateRejected(f"{field}: calls nest too deeply.", field=field) from exc
    finally:
        _BUDGET.reset(token)
    return "".join(chunks)
