"""Every `.t(...)` / `.nt(...)` in the shop's code hands gettext a message it can find.

`make messages` reads the source, not the running program: it finds `lang.t("literal")`,
`lang.nt("literal", "literal", n)` and `N_("literal")`, and nothing else. A variable, an
f-string or a `+` there is text that never reaches a translator, so the buyer reads English in
the middle of their language and no test notices. The one exception is a table of `N_`-marked
texts translated where it is shown: `lang.t(TABLE[key])`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("bot", "shop", "webhooks")
# How many leading arguments of each keyword are message ids (the Makefile's -k t -k nt:1,2).
MESSAGE_ARGUMENTS = {"t": 1, "nt": 2, "N_": 1}


@dataclass(frozen=True)
class Module:
    name: str  # bot.admin.products
    where: str  # bot/admin/products.py
    tree: ast.Module


def modules(root: Path = ROOT) -> list[Module]:
    found = []
    for source in SOURCES:
        for path in sorted((root / source).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            where = str(path.relative_to(root))
            found.append(Module(name, where, ast.parse(path.read_text(), where)))
    return found


def _is_marked(node: ast.expr) -> bool:
    """`N_("literal")`."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "N_"
        and len(node.args) == 1
        and _is_literal(node.args[0])
    )


def _is_literal(node: ast.expr) -> bool:
    """A string literal (implicitly concatenated literals are one constant to the parser)."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _table_values(node: ast.expr) -> list[ast.expr] | None:
    if isinstance(node, ast.Dict):
        return list(node.values)
    if isinstance(node, (ast.List, ast.Tuple)):
        return list(node.elts)
    return None


def marked_tables(module: Module) -> set[str]:
    """Module-level names bound to a dict, list or tuple whose every value is `N_("...")`."""
    tables = set()
    for statement in module.tree.body:
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        else:
            continue
        values = _table_values(value)
        if values and all(_is_marked(item) for item in values):
            tables |= {target.id for target in targets if isinstance(target, ast.Name)}
    return tables


def _imports(module: Module) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Names imported from modules (`from m import X as Y`: Y → (m, X)) and module aliases
    (`import a.b as c`, `from a import b`: c → a.b) at any level of the module."""
    names: dict[str, tuple[str, str]] = {}
    aliases: dict[str, str] = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module, alias.name)
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
    return names, aliases


def _is_table_lookup(node: ast.expr, module: Module, tables: dict[str, set[str]]) -> bool:
    """`TABLE[key]` where TABLE is an `N_` table of this module or one it imports."""
    if not isinstance(node, ast.Subscript):
        return False
    target = node.value
    names, aliases = _imports(module)
    if isinstance(target, ast.Name):
        if target.id in tables.get(module.name, set()):
            return True
        origin = names.get(target.id)
        return origin is not None and origin[1] in tables.get(origin[0], set())
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        owner = aliases.get(target.value.id)
        return owner is not None and target.attr in tables.get(owner, set())
    return False


def _keyword(node: ast.Call) -> str | None:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name in ("t", "nt") or (name == "N_" and isinstance(func, ast.Name)):
        return str(name)
    return None


def call_problems(found: list[Module] | None = None) -> list[str]:
    """Each `.t(` / `.nt(` / `N_(` call whose message id(s) extraction would not find."""
    found = modules() if found is None else found
    tables = {module.name: marked_tables(module) for module in found}
    problems: list[tuple[str, int, str]] = []
    for module in found:
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call):
                continue
            keyword = _keyword(node)
            if keyword is None:
                continue
            for problem in _argument_problems(node, keyword, module, tables):
                problems.append((module.where, node.lineno, problem))
    return [f"{where}:{line}: {problem}" for where, line, problem in sorted(problems)]


def _argument_problems(
    node: ast.Call, keyword: str, module: Module, tables: dict[str, set[str]]
) -> Iterator[str]:
    count = MESSAGE_ARGUMENTS[keyword]
    source = ast.unparse(node)
    if any(isinstance(arg, ast.Starred) for arg in node.args[:count]) or len(node.args) < count:
        yield f"{source}: its message id must be given as {count} positional literal(s)"
        return
    for arg in node.args[:count]:
        if _is_literal(arg):
            continue
        if keyword == "t" and _is_table_lookup(arg, module, tables):
            continue
        kind = "an f-string" if isinstance(arg, ast.JoinedStr) else "not a string literal"
        yield f"{source}: the message id {ast.unparse(arg)} is {kind}"
