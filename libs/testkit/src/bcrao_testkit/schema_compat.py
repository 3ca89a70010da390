"""Breaking changes between two JSON Schemas, or two OpenAPI documents (ADR 0007).

Hand-written on purpose: the PyPI candidates either only display differences without telling a
breaking one from an additive one (jsonschema-diff), or are young single-author projects whose
rule set we would have to audit anyway (api-schema-diff); oasdiff, the well-kept tool, is a Go
binary that reads OpenAPI only, not the event schemas. The rules we need are few and ours (ADR
0007), so they are spelled out here, with their own tests
(libs/testkit/tests/test_schema_compat.py).

A change is breaking when a reader built against the old schema can no longer read what a writer
built against the new one sends, or the other way round, within one major version:

- a field (property) removed;
- a field's type changed (string -> integer, a model -> a list, nullable -> not nullable, ...);
- a field that is new and required, or an existing one that became required;
- an enum's or constant's values changed (an old reader refuses a new value; a new reader
  refuses an old one);
- a whole schema (an event at a schema version) removed;
- an endpoint (path and method) removed, a required parameter added, a request or response
  body's schema changed in one of the ways above.

Adding an optional field, an event, an event version, an endpoint or an optional parameter is
not breaking. Descriptions, titles, examples and defaults are not compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True, order=True)
class Break:
    where: str  # a dotted path: "DraftGenerated.v1.draft.title", "PUT /internal/x body.plan"
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def _resolve(node: Any, root: Schema) -> tuple[Any, str | None]:
    """Follows local `$ref`s (#/...); returns the target and the last reference followed."""
    ref = None
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node, ref


def _branches(node: Schema) -> list[Any]:
    for key in ("anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            return list(node[key])
    if isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
        return list(node["allOf"])
    return []


def _types(node: Any, root: Schema) -> frozenset[str]:
    """The JSON types a schema admits ("any" when it says nothing)."""
    node, _ = _resolve(node, root)
    if not isinstance(node, Mapping):
        return frozenset({"any"})
    if branches := _branches(node):
        return frozenset().union(*(_types(b, root) for b in branches))
    if "const" in node:
        return frozenset({_json_type(node["const"])})
    kind = node.get("type")
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, list):
        return frozenset(kind)
    if "properties" in node:
        return frozenset({"object"})
    if "enum" in node:
        return frozenset(_json_type(v) for v in node["enum"])
    return frozenset({"any"})


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _values(node: Any, root: Schema) -> frozenset[str] | None:
    """The allowed values of an enum or constant (as JSON text), None when unrestricted."""
    node, _ = _resolve(node, root)
    if not isinstance(node, Mapping):
        return None
    if branches := _branches(node):
        parts = [_values(b, root) for b in branches]
        restricted = [p for p in parts if p is not None]
        return frozenset().union(*restricted) if restricted else None
    if "const" in node:
        return frozenset({repr(node["const"])})
    if "enum" in node:
        return frozenset(repr(v) for v in node["enum"])
    return None


class _Comparer:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root, self.new_root = old_root, new_root
        self.breaks: list[Break] = []
        self._seen: set[tuple[str, str, str]] = set()

    def compare(self, old: Any, new: Any, where: str) -> None:
        old_node, old_ref = _resolve(old, self.old_root)
        new_node, new_ref = _resolve(new, self.new_root)
        if old_ref and new_ref:  # recursive models: compare each pair of definitions once
            key = (old_ref, new_ref, where.split(".", 1)[0])
            if key in self._seen:
                return
            self._seen.add(key)
        old_types, new_types = _types(old_node, self.old_root), _types(new_node, self.new_root)
        if old_types != new_types:
            self.add(where, f"changed type: {_show(old_types)} -> {_show(new_types)}")
            return
        old_values, new_values = _values(old_node, self.old_root), _values(new_node, self.new_root)
        if old_values != new_values:
            self.add(where, _values_change(old_values, new_values))
        if not isinstance(old_node, Mapping) or not isinstance(new_node, Mapping):
            return
        self._objects(old_node, new_node, where)
        self._containers(old_node, new_node, where)

    def _objects(self, old: Schema, new: Schema, where: str) -> None:
        old_props = _properties(old, self.old_root)
        new_props = _properties(new, self.new_root)
        old_required = _required(old, self.old_root)
        new_required = _required(new, self.new_root)
        for name in sorted(old_props):
            if name not in new_props:
                self.add(f"{where}.{name}", "removed field")
            else:
                self.compare(old_props[name], new_props[name], f"{where}.{name}")
        for name in sorted(new_required - old_required):
            what = "new required field" if name not in old_props else "field became required"
            self.add(f"{where}.{name}", what)

    def _containers(self, old: Schema, new: Schema, where: str) -> None:
        for key, label in (("items", "[]"), ("additionalProperties", "{}")):
            old_sub, new_sub = old.get(key), new.get(key)
            if isinstance(old_sub, Mapping) and isinstance(new_sub, Mapping):
                self.compare(old_sub, new_sub, f"{where}{label}")
        # Optional[Model] and other unions: compare the branches that admit the same types.
        old_branches = {_types(b, self.old_root): b for b in _branches(old)}
        new_branches = {_types(b, self.new_root): b for b in _branches(new)}
        for kinds in sorted(old_branches.keys() & new_branches.keys(), key=sorted):
            if kinds & {"object", "array"}:
                self.compare(old_branches[kinds], new_branches[kinds], where)

    def add(self, where: str, what: str) -> None:
        self.breaks.append(Break(where, what))


def _properties(node: Schema, root: Schema) -> dict[str, Any]:
    props = dict(node.get("properties") or {})
    for part in node.get("allOf") or []:  # a model extending another, inlined
        resolved, _ = _resolve(part, root)
        if isinstance(resolved, Mapping):
            props.update(resolved.get("properties") or {})
    return props


def _required(node: Schema, root: Schema) -> frozenset[str]:
    required = set(node.get("required") or [])
    for part in node.get("allOf") or []:
        resolved, _ = _resolve(part, root)
        if isinstance(resolved, Mapping):
            required.update(resolved.get("required") or [])
    return frozenset(required)


def _show(types: frozenset[str]) -> str:
    return "|".join(sorted(types))


def _values_change(old: frozenset[str] | None, new: frozenset[str] | None) -> str:
    if old is None:
        return "values restricted"
    if new is None:
        return "values unrestricted"
    parts = []
    if removed := sorted(old - new):
        parts.append("removed " + ", ".join(removed))
    if added := sorted(new - old):
        parts.append("added " + ", ".join(added))
    return "enum changed: " + "; ".join(parts)


def schema_breaks(old: Schema, new: Schema, name: str = "$") -> list[Break]:
    """Breaking changes from one JSON Schema (with its own $defs) to another."""
    comparer = _Comparer(old, new)
    comparer.compare(old, new, name)
    return sorted(comparer.breaks)


def catalogue_breaks(old: Mapping[str, Schema], new: Mapping[str, Schema]) -> list[Break]:
    """Breaking changes between two sets of named schemas (events by "<type>.v<version>")."""
    found: list[Break] = []
    for name in sorted(old):
        if name not in new:
            found.append(Break(name, "removed schema"))
        else:
            found.extend(schema_breaks(old[name], new[name], name))
    return found


def _operations(document: Schema) -> dict[tuple[str, str], Schema]:
    return {
        (path, method): operation
        for path, item in (document.get("paths") or {}).items()
        for method, operation in item.items()
        if method in METHODS
    }


def _body_schema(holder: Schema | None) -> Schema | None:
    content = (holder or {}).get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    return (media or {}).get("schema")


def _parameters(operation: Schema, root: Schema) -> dict[tuple[str, str], Schema]:
    params = {}
    for raw in operation.get("parameters") or []:
        param, _ = _resolve(raw, root)
        params[(param.get("in", ""), param.get("name", ""))] = param
    return params


def openapi_breaks(old: Schema, new: Schema) -> list[Break]:
    """Breaking changes between two OpenAPI 3 documents (the same rules, per operation)."""
    comparer = _Comparer(old, new)
    old_ops, new_ops = _operations(old), _operations(new)
    for path, method in sorted(old_ops):
        label = f"{method.upper()} {path}"
        if (path, method) not in new_ops:
            comparer.add(label, "removed endpoint")
            continue
        old_op, new_op = old_ops[(path, method)], new_ops[(path, method)]
        old_params, new_params = _parameters(old_op, old), _parameters(new_op, new)
        for key, param in sorted(new_params.items()):
            if param.get("required") and not (old_params.get(key) or {}).get("required"):
                comparer.add(f"{label} {key[0]}.{key[1]}", "new required parameter")
            if key in old_params and "schema" in param and "schema" in old_params[key]:
                comparer.compare(
                    old_params[key]["schema"], param["schema"], f"{label} {key[0]}.{key[1]}"
                )
        old_body, _ = _resolve(old_op.get("requestBody"), old)
        new_body, _ = _resolve(new_op.get("requestBody"), new)
        if new_body and new_body.get("required") and not old_body:
            comparer.add(f"{label} body", "new required request body")
        old_schema, new_schema = _body_schema(old_body), _body_schema(new_body)
        if old_schema is not None and new_schema is not None:
            comparer.compare(old_schema, new_schema, f"{label} body")
        for status, old_response in sorted((old_op.get("responses") or {}).items()):
            new_response = (new_op.get("responses") or {}).get(status)
            old_schema = _body_schema(_resolve(old_response, old)[0])
            new_schema = _body_schema(_resolve(new_response, new)[0]) if new_response else None
            if old_schema is not None and new_schema is not None:
                comparer.compare(old_schema, new_schema, f"{label} {status}")
    return sorted(set(comparer.breaks))


def major(version: str) -> tuple[int, ...]:
    """The part of a semantic version that must change on a breaking change: the major, or
    below 1.0.0 the first non-zero part (0.2.x -> 0.3.0 is a breaking release), as cargo does."""
    parts = [int(p) for p in version.split("-", 1)[0].split("+", 1)[0].split(".")]
    for index, part in enumerate(parts):
        if part != 0:
            return tuple(parts[: index + 1])
    return tuple(parts)


def allowed(breaks: Iterable[Break], released: str, current: str) -> bool:
    """No breaking change, or the current version is a new major over the released one."""
    return not list(breaks) or major(current) > major(released)
