"""Small row expressions (``AGEP >= 25 and ESR in [1, 2]``, ``ST=40``) turned into Ibis.

Used by metric recipes (universe, numerator) and by ``--where``. Only column names, numbers,
strings, lists, comparisons, ``in``/``not in``, ``and``/``or``/``not``, ``is None`` and the
arithmetic operators are allowed; anything else is refused with the option named.

Examples
--------
>>> import ibis
>>> t = ibis.table({"AGEP": "int64", "ESR": "int64"}, name="p")
>>> str(parse("AGEP >= 25 and ESR in [1, 2]", t).type())
'boolean'
>>> parse("AGE > 3", t, option="--where")
Traceback (most recent call last):
...
upward.core.errors.ConfigError: --where 'AGE > 3': 'AGE' is not a column. What to do: use one of: AGEP, ESR
"""

from __future__ import annotations

import ast
import operator
import re

import ibis

from upward.core.errors import ConfigError

_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}
_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv}


def parse(text: str, table, *, option: str = "expression"):
    """The Ibis boolean or numeric expression of ``text`` over ``table``'s columns.

    A single ``=`` is read as ``==`` (``ST=40``).

    >>> import ibis
    >>> t = ibis.table({"ST": "string"}, name="p")
    >>> str(parse("ST=40", t).type())
    'boolean'
    """
    source = re.sub(r"(?<![<>=!])=(?!=)", "==", text)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise ConfigError(f"{option} {text!r} is not an expression",
                          fix="write e.g. \"AGEP >= 25 and ESR in [1, 2]\"") from None

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{option} {text!r}: {problem}",
                           fix=f"use one of: {', '.join(table.columns)}")

    def lit(node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -lit(node.operand)
        raise ConfigError(f"{option} {text!r}: only numbers and strings may be listed",
                          fix="write e.g. ESR in [1, 2]")

    def coerce(col, value):
        if isinstance(value, int | float) and col.type().is_string():
            return str(int(value)) if float(value).is_integer() else str(value)
        if isinstance(value, str) and col.type().is_numeric():
            try:
                return float(value)
            except ValueError:
                return value
        return value

    def walk(node):
        if isinstance(node, ast.Name):
            if node.id not in table.columns:
                raise fail(f"{node.id!r} is not a column")
            return table[node.id]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BoolOp):
            parts = [walk(v) for v in node.values]
            out = parts[0]
            for p in parts[1:]:
                out = (out & p) if isinstance(node.op, ast.And) else (out | p)
            return out
        if isinstance(node, ast.UnaryOp):
            v = walk(node.operand)
            if isinstance(node.op, ast.Not):
                return ~v
            if isinstance(node.op, ast.USub):
                return -v
        if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
            return _BIN[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, op, right = node.left, node.ops[0], node.comparators[0]
            lv = walk(left)
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(right, ast.List | ast.Tuple | ast.Set):
                    raise fail("'in' needs a list such as [1, 2]")
                values = [coerce(lv, lit(e)) for e in right.elts]
                expr = lv.isin(values)
                return ~expr if isinstance(op, ast.NotIn) else expr
            if isinstance(op, ast.Is | ast.IsNot) and isinstance(right, ast.Constant) \
                    and right.value is None:
                return lv.isnull() if isinstance(op, ast.Is) else lv.notnull()
            if type(op) in _CMP:
                rv = walk(right)
                if not isinstance(rv, ibis.Expr) and isinstance(lv, ibis.Expr):
                    rv = coerce(lv, rv)
                return _CMP[type(op)](lv, rv)
        raise fail(f"{ast.unparse(node)!r} is not allowed here")

    return walk(tree.body)
