"""Which parts of a message stay plain: an allow-list of dot-separated path patterns (``*`` any
key or array index) compiled once into a tree. Walking a message from its root object, a member
whose path matches a pattern is kept whole, a member on the way to deeper patterns is kept as a
container and walked into, and every other member is encrypted whole as one field, so a field a
protocol adds tomorrow is encrypted by default (docs/PROTOCOL.md section 3)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from .errors import ContinuumError
from .field_cipher import CIPHERTEXT_PREFIX, CipherContext, IvSource, decrypt_value, encrypt_value, random_iv


class PlainFieldTree:
    """A compiled allow-list node."""

    __slots__ = ("plain", "children", "any")

    def __init__(self) -> None:
        self.plain = False
        self.children: dict[str, PlainFieldTree] = {}
        self.any: PlainFieldTree | None = None

    def child(self, key: str) -> PlainFieldTree | None:
        return self.children.get(key) or self.any


def compile_plain_fields(patterns: Iterable[str]) -> PlainFieldTree:
    """Compiles patterns such as ``model`` or ``messages.*.role``; an empty segment is CONTINUUM_INVALID_OPTIONS."""
    root = PlainFieldTree()
    for pattern in patterns:
        node = root
        for segment in pattern.split("."):
            if segment == "":
                raise ContinuumError(
                    "CONTINUUM_INVALID_OPTIONS", f'Plain field pattern "{pattern}" has an empty segment'
                )
            if segment == "*":
                if node.any is None:
                    node.any = PlainFieldTree()
                node = node.any
            else:
                node = node.children.setdefault(segment, PlainFieldTree())
        node.plain = True
    return root


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1") if ("~" in key or "/" in key) else key


Leaf = Callable[[Any, str], Any]


def _walk(tree: PlainFieldTree, value: Any, path: str, leaf: Leaf) -> Any:
    # Recursion follows the allow-list only, so its depth is bounded by the longest pattern.
    if tree.plain:
        return value
    children = tree.children
    wildcard = tree.any
    if type(value) is dict:
        copy: dict[str, Any] = {}
        for key, item in value.items():
            child = children.get(key) or wildcard
            if child is not None and child.plain:
                # A plain subtree is kept as it is: no pointer to build, nothing to walk.
                copy[key] = item
                continue
            child_path = f"{path}/{_escape(key)}"
            copy[key] = leaf(item, child_path) if child is None else _walk(child, item, child_path, leaf)
        return copy
    if type(value) is list:
        result = []
        for index, item in enumerate(value):
            child = children.get(str(index)) or wildcard
            if child is not None and child.plain:
                result.append(item)
                continue
            child_path = f"{path}/{index}"
            result.append(leaf(item, child_path) if child is None else _walk(child, item, child_path, leaf))
        return result
    return value if path == "" else leaf(value, path)


def encrypt_fields(
    tree: PlainFieldTree, message: Any, context: CipherContext, sequence: int, iv: IvSource = random_iv
) -> Any:
    """A copy of ``message`` with every value off the allow-list replaced by its ciphertext."""
    return _walk(tree, message, "", lambda value, path: encrypt_value(context, sequence, path, value, iv))


def decrypt_fields(tree: PlainFieldTree, message: Any, context: CipherContext, sequence: int) -> Any:
    """A copy with every value off the allow-list decrypted; a plain value there is CONTINUUM_FIELD_NOT_ENCRYPTED."""

    def leaf(value: Any, path: str) -> Any:
        if not isinstance(value, str) or not value.startswith(CIPHERTEXT_PREFIX):
            raise ContinuumError(
                "CONTINUUM_FIELD_NOT_ENCRYPTED", f"Field {path} must be encrypted", details={"path": path}
            )
        return decrypt_value(context, sequence, path, value)

    return _walk(tree, message, "", leaf)
