#!/usr/bin/env python3
"""Checks the house rules of ARCHITECTURE.md on every crate of the workspace:

1. no import circle among a crate's modules: every import runs one way;
2. no source file over MAX_LINES lines;
3. ARCHITECTURE.md names only what exists: every path, `Type::item`, `macro!` and type in
   backticks is found in the code.

    python3 scripts/architecture.py [--graph]

A module is one source file. An edge A -> B is a name A's non-test code takes from B: a `use`
(resolved through re-exports to the module that defines the item) or a `crate::`, `super::`
or `self::` path in code. Comments and doc links are not imports. `pub use` of a module's own
descendants is wiring (a parent showing its children), not an edge, and the crate root
(`lib.rs`, `main.rs`) only wires. Code under `#[cfg(test)]` (and files whose `mod` line is
test-only) is left out. Exit status 1 with the circles and the long files printed, else 0.
"""
import pathlib
import re
import sys

MAX_LINES = 500
STD_NAMES = {"Drop", "Clone", "Debug", "Send", "Sync", "Future"}
ROOT = pathlib.Path(__file__).resolve().parent.parent
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments(text):
    """The source without comments and string contents (so a `crate::` in a string or a doc
    line is not read as a path)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
        elif c == '"' or (c == "r" and re.match(r'r#*"', text[i:i + 10]) and not re.match(r"\w", text[i - 1:i] or " ")):
            m = re.match(r'r(#*)"', text[i:]) if c == "r" else None
            if m:
                end = '"' + m.group(1)
                j = text.find(end, i + len(m.group(0)))
                j = n if j < 0 else j + len(end)
            else:
                j = i + 1
                while j < n and text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
                j += 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]):
            m = re.match(r"'(\\.|[^\\'])'", text[i:])
            out.append("' '")
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


TEST_ATTR = re.compile(r"#\[cfg\((all\()?\s*test\b[^\]]*\]")


def drop_test_items(code):
    """`code` without the items under a `#[cfg(test)]`-like attribute; and the names of the
    modules declared test-only (`#[cfg(test)] mod name;`)."""
    test_modules = set()
    while True:
        m = TEST_ATTR.search(code)
        if not m:
            return code, test_modules
        rest = code[m.end():]
        decl = re.match(r"\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;", rest)
        if decl:
            test_modules.add(decl.group(1))
            code = code[:m.start()] + code[m.end() + decl.end():]
            continue
        brace, semi = rest.find("{"), rest.find(";")
        if semi >= 0 and (brace < 0 or semi < brace):
            end = m.end() + semi + 1
        else:
            depth, j = 0, m.end() + brace
            while j < len(code):
                if code[j] == "{":
                    depth += 1
                elif code[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            end = j + 1
        code = code[:m.start()] + "\n" * code.count("\n", m.start(), end) + code[end:]


def expand_use(tree, prefix=()):
    """The paths of a use tree: `a::{b, c::{d, e as f}}` -> [(a,b), (a,c,d), (a,c,e)]."""
    tree = tree.strip()
    paths = []
    depth, start, parts = 0, 0, []
    for i, c in enumerate(tree):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(tree[start:i])
            start = i + 1
    parts.append(tree[start:])
    for part in (p.strip() for p in parts):
        if not part:
            continue
        brace = part.find("{")
        if brace >= 0 and part.endswith("}"):
            head = [s for s in part[:brace].split("::") if s.strip()]
            paths += expand_use(part[brace + 1:-1], prefix + tuple(s.strip() for s in head))
        else:
            path = part.split(" as ")[0].strip()
            alias = part.split(" as ")[1].strip() if " as " in part else None
            segs = prefix + tuple(s.strip() for s in path.split("::") if s.strip())
            if segs and segs[-1] == "self":
                segs = segs[:-1]
            if segs:
                paths.append((segs, alias or segs[-1]))
    return paths


class Crate:
    def __init__(self, src):
        self.src = src
        self.modules = {}  # module path tuple -> file
        self.code = {}  # module -> code without comments and test items
        self.lines = {}  # module -> non-test line count
        root_file = src / "lib.rs" if (src / "lib.rs").exists() else src / "main.rs"
        self.load((), root_file)

    def load(self, module, path):
        self.modules[module] = path
        text = path.read_text()
        code, test_modules = drop_test_items(strip_comments(text))
        self.code[module] = code
        self.lines[module] = text.count("\n")
        # Child modules: `mod name;` (any visibility and attributes), not test-only ones.
        for m in re.finditer(r"(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;", code):
            name = m.group(1)
            if name in test_modules:
                continue
            if path.name in ("lib.rs", "main.rs", "mod.rs"):
                base = path.parent
            else:
                base = path.parent / path.stem
            for candidate in (base / f"{name}.rs", base / name / "mod.rs"):
                if candidate.exists():
                    self.load(module + (name,), candidate)
                    break
        # Inline modules (`mod name { ... }`) are rare in these crates and count as their file.

    def uses(self, module):
        """(path segments, bound name, is a re-export) for each `use` of the module."""
        out = []
        for m in re.finditer(r"(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", self.code[module]):
            for segs, alias in expand_use(m.group(2)):
                out.append((segs, alias, bool(m.group(1))))
        return out

    def absolute(self, module, segs):
        """`segs` as a path from the crate root, or None for another crate's path."""
        if segs[0] == "crate":
            return segs[1:]
        if segs[0] == "self":
            return module + segs[1:]
        if segs[0] == "super":
            base = module
            while segs and segs[0] == "super":
                base, segs = base[:-1], segs[1:]
            return base + segs
        if module + (segs[0],) in self.modules:
            return module + segs
        return None

    def resolve(self, path, seen=None):
        """The module that defines the item at `path` (a path from the root)."""
        seen = seen or set()
        current = ()
        for i, seg in enumerate(path):
            if current + (seg,) in self.modules:
                current = current + (seg,)
                continue
            # A name of `current`: its own item, or one it imports.
            for segs, alias, _ in self.uses(current):
                if alias == seg and (current, seg) not in seen:
                    target = self.absolute(current, segs)
                    if target is None:
                        return current
                    seen.add((current, seg))
                    return self.resolve(target + tuple(path[i + 1:]), seen)
            return current
        return current

    def edges(self):
        graph = {m: set() for m in self.modules}
        for module in self.modules:
            if module == ():
                continue  # the root wires
            for segs, _, reexport in self.uses(module):
                target = self.absolute(module, segs)
                if target is None:
                    continue
                defining = self.resolve(target)
                if reexport and defining[: len(module)] == module:
                    continue  # a parent showing its children
                graph[module].add(defining)
            for m in re.finditer(r"\b(crate|super|self)((?:::" + IDENT + r")+)", self.code[module]):
                segs = (m.group(1),) + tuple(s for s in m.group(2).split("::") if s)
                line_start = self.code[module].rfind("\n", 0, m.start()) + 1
                if re.match(r"\s*(pub(\([^)]*\))?\s+)?use\b", self.code[module][line_start:]):
                    continue  # read above, with its tree
                target = self.absolute(module, segs)
                if target is not None:
                    graph[module].add(self.resolve(target))
        for module in graph:
            graph[module].discard(module)
            graph[module].discard(())
        return graph


def circles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def name(module):
    return "::".join(module) or "crate"


def unknown_names(doc):
    """The names in backticks in `doc` that the code does not have: a file or folder path, a
    `Type::item`, a `macro!`, or a type, trait or function name."""
    sources = [path for path in ROOT.glob("**/*.rs") if "target" not in path.parts]
    text = "\n".join(strip_comments(path.read_text()) for path in sources)
    missing = []
    for name in sorted(set(re.findall(r"`([^`]+)`", doc))):
        if re.search(r"[\s<\[]", name) or name in STD_NAMES:
            continue  # a command, a pattern, or the standard library's
        if "/" in name or name.endswith((".rs", ".py", ".md")):
            path = name.rstrip("/")
            found = (ROOT / path).exists() or any(ROOT.glob(f"**/{path}"))
            ok = found
        elif re.fullmatch(IDENT + r"!", name):
            ok = re.search(r"macro_rules!\s+" + name[:-1] + r"\b", text)
        elif re.fullmatch(IDENT + r"::" + IDENT, name):
            owner, item = name.split("::")
            ok = re.search(r"\b(struct|enum|trait|type|mod)\s+" + owner + r"\b", text) and re.search(
                r"\b(fn|const|static|type)\s+" + item + r"\b|\b" + item + r"\s*[({,]", text
            )
        elif re.fullmatch(r"[A-Z][A-Za-z0-9]+", name):
            ok = re.search(r"\b(struct|enum|trait|type)\s+" + name + r"\b", text)
        else:
            continue
        if not ok:
            missing.append(name)
    return missing


def main():
    failed = False
    missing = unknown_names((ROOT / "ARCHITECTURE.md").read_text())
    if missing:
        failed = True
        print("ARCHITECTURE.md names what the code does not have:", ", ".join(missing))
    for src in sorted(ROOT.glob("crates/*/src")):
        crate = Crate(src)
        graph = crate.edges()
        if "--graph" in sys.argv:
            print(f"# {src.parent.name}")
            for module in sorted(graph):
                if graph[module]:
                    print(f"{name(module)} -> {', '.join(sorted(name(t) for t in graph[module]))}")
        for component in circles(graph):
            failed = True
            members = set(component)
            print(f"{src.parent.name}: import circle among {', '.join(sorted(name(m) for m in component))}:")
            for module in sorted(component):
                inside = sorted(name(t) for t in graph[module] if t in members)
                print(f"    {name(module)} -> {', '.join(inside)}")
        for module, path in sorted(crate.modules.items()):
            if crate.lines[module] > MAX_LINES:
                failed = True
                print(f"{path.relative_to(ROOT)}: {crate.lines[module]} lines (at most {MAX_LINES})")
    if failed:
        sys.exit(1)
    print("architecture: no import circle, no source file over", MAX_LINES, "lines, every name of ARCHITECTURE.md exists")


main()
