"""The names a Lua 5.1 chunk reads or writes without declaring them (its free globals).

Redis runs library code with globals locked, so a misspelt or undeclared helper only fails
when the line runs; this finds every one statically. Checked against ``luac5.1 -l`` (its
GETGLOBAL and SETGLOBAL instructions) when the library was written.
"""

from __future__ import annotations

from collections.abc import Iterable

from luaparser import ast, astnodes

__all__ = ["free_names"]

Scope = frozenset[str]


def free_names(source: str) -> set[str]:
    found: set[str] = set()
    _Resolver(found).block(ast.parse(source).body.body, frozenset())
    return found


def _names(nodes: Iterable[astnodes.Node]) -> set[str]:
    return {n.id for n in nodes if isinstance(n, astnodes.Name)}


class _Resolver:
    def __init__(self, found: set[str]) -> None:
        self.found = found

    def block(self, statements: list[astnodes.Node], scope: Scope) -> Scope:
        """Visits statements in order; each ``local`` is in scope from the next statement on."""
        for statement in statements:
            scope = self.statement(statement, scope)
        return scope

    def statement(self, node: astnodes.Node, scope: Scope) -> Scope:
        if isinstance(node, astnodes.LocalAssign):
            self.exprs(node.values or [], scope)
            return scope | _names(node.targets)
        if isinstance(node, astnodes.LocalFunction):
            inner = scope | {node.name.id}
            self.function(node.args, node.body, inner)
            return inner
        if isinstance(node, astnodes.Fornum):
            self.exprs([node.start, node.stop, node.step], scope)
            self.block(node.body.body, scope | {node.target.id})
        elif isinstance(node, astnodes.Forin):
            self.exprs(node.iter, scope)
            self.block(node.body.body, scope | _names(node.targets))
        elif isinstance(node, astnodes.Repeat):
            self.expr(node.test, self.block(node.body.body, scope))  # `until` sees the body's locals
        elif isinstance(node, astnodes.While):
            self.expr(node.test, scope)
            self.block(node.body.body, scope)
        elif isinstance(node, astnodes.If | astnodes.ElseIf):
            self.expr(node.test, scope)
            self.block(node.body.body, scope)
            if isinstance(node.orelse, astnodes.Block):
                self.block(node.orelse.body, scope)
            elif node.orelse is not None:
                self.statement(node.orelse, scope)
        elif isinstance(node, astnodes.Do):
            self.block(node.body.body, scope)
        elif isinstance(node, astnodes.Function):  # function a.b() ... end: `a` is read
            self.expr(node.name, scope)
            self.function(node.args, node.body, scope)
        elif isinstance(node, astnodes.Method):
            self.expr(node.source, scope)
            self.function(node.args, node.body, scope | {"self"})
        else:
            self.expr(node, scope)
        return scope

    def function(self, args: list[astnodes.Node], body: astnodes.Block, scope: Scope) -> None:
        self.block(body.body, scope | _names(args))

    def exprs(self, nodes: Iterable[object], scope: Scope) -> None:
        for node in nodes:
            self.expr(node, scope)

    def expr(self, node: object, scope: Scope) -> None:
        if not isinstance(node, astnodes.Node):  # an omitted part (None, a for loop's step 1)
            return
        if isinstance(node, astnodes.Name):
            if node.id not in scope:
                self.found.add(node.id)
        elif isinstance(node, astnodes.Index):
            self.expr(node.value, scope)
            if node.notation == astnodes.IndexNotation.SQUARE:  # a[b] reads b; a.b does not
                self.expr(node.idx, scope)
        elif isinstance(node, astnodes.Invoke):  # a:m(...) reads a, not m
            self.expr(node.source, scope)
            self.exprs(node.args, scope)
        elif isinstance(node, astnodes.Field):
            if node.between_brackets:
                self.expr(node.key, scope)
            self.expr(node.value, scope)
        elif isinstance(node, astnodes.AnonymousFunction):
            self.function(node.args, node.body, scope)
        else:
            for value in vars(node).values():
                children = value if isinstance(value, list) else [value]
                for child in children:
                    if not isinstance(child, astnodes.Node) or isinstance(child, astnodes.Comment):
                        continue
                    if isinstance(child, astnodes.Statement) and not isinstance(child, astnodes.Expression):
                        self.statement(child, scope)
                    else:
                        self.expr(child, scope)
