#!/usr/bin/env python3
"""Builds each README's Rust snippets as a user's app would: a crate of its own whose
dependencies are exactly what the README tells a user to add (its `cargo add` lines, features
included) plus the common third-party crates the snippets use, and runs the snippets as that
crate's doc tests. A snippet that needs a feature the README does not tell the user to enable
fails to compile here, where the workspace's own doc tests (with every dev-dependency's
features) would pass.

Usage: scripts/readme_apps.py [README ...]   (default: every crate README and the workspace's)
"""

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "readme-apps"
OURS = {p.name: p for p in (ROOT / "crates").iterdir() if (p / "Cargo.toml").exists()}
# Third-party crates the snippets use; their features do not matter to the check.
COMMON = ["tokio", "axum", "actix-web", "actix-rt", "tower", "serde", "serde_json", "http", "worker",
          "sqlx", "redis", "tracing", "bytes", "http-body-util", "hyper"]
EXTRA_FEATURES = {"tokio": ["full"], "tower": ["util"], "axum": ["macros"]}


def cargo_adds(readme: str):
    """The (crate, features, dev) of every `cargo add` line of the README's sh blocks."""
    adds = []
    for block in re.findall(r"```sh\n(.*?)```", readme, re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line.startswith("cargo add "):
                continue
            words = shlex.split(line)[2:]
            features, dev, crates = [], False, []
            i = 0
            while i < len(words):
                if words[i] in ("--features", "-F"):
                    features += re.split(r"[ ,]+", words[i + 1])
                    i += 2
                    continue
                if words[i] == "--dev":
                    dev = True
                elif not words[i].startswith("-"):
                    crates.append(words[i].split("@")[0])
                i += 1
            for crate in crates:
                adds.append((crate, [f for f in features if f] if len(crates) == 1 else [], dev))
    return adds


def manifest(name: str, adds) -> str:
    workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["dependencies"]
    lines = [f'[package]\nname = "{name}"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n',
             "[workspace]\n", "[lib]\npath = \"lib.rs\"\n", "[dependencies]"]
    dev = ["[dev-dependencies]"]
    ours = {}
    for crate, features, is_dev in adds:
        if crate in OURS:
            ours.setdefault((crate, is_dev), set()).update(features)
    for (crate, is_dev), features in sorted(ours.items()):
        spec = f'{crate} = {{ path = "{OURS[crate]}", features = {sorted(features)!r} }}'.replace("'", '"')
        (dev if is_dev else lines).append(spec)
    for crate in COMMON:
        entry = workspace[crate]
        version = entry if isinstance(entry, str) else entry["version"]
        features = ([] if isinstance(entry, str) else entry.get("features", [])) + EXTRA_FEATURES.get(crate, [])
        # The features a README tells the user to add to a third-party crate.
        features += [f for c, fs, _ in adds if c == crate for f in fs]
        default = "true" if isinstance(entry, str) else str(entry.get("default-features", True)).lower()
        lines.append(f'{crate} = {{ version = "{version}", default-features = {default}, features = {features!r} }}'.replace("'", '"'))
    return "\n".join(lines + [""] + dev) + "\n"


def check(readme_path: Path) -> bool:
    readme = readme_path.read_text()
    adds = cargo_adds(readme)
    if "```rust" not in readme:
        return True
    if not any(crate in OURS for crate, _, _ in adds):
        print(f"{readme_path.relative_to(ROOT)}: Rust snippets but no `cargo add` line for a crate of ours")
        return False
    name = "readme_" + re.sub(r"\W", "_", str(readme_path.parent.relative_to(ROOT)) or "workspace").strip("_")
    crate_dir = WORK / name
    crate_dir.mkdir(parents=True, exist_ok=True)
    (crate_dir / "Cargo.toml").write_text(manifest(name, adds))
    (crate_dir / "README.md").write_text(readme)
    (crate_dir / "lib.rs").write_text('#![doc = include_str!("README.md")]\n')
    print(f"== {readme_path.relative_to(ROOT)}: " + ", ".join(
        f"{c}{'[' + ','.join(f) + ']' if f else ''}{' (dev)' if d else ''}" for c, f, d in adds if c in OURS), flush=True)
    env = {"CARGO_TARGET_DIR": str(WORK / "target")}
    result = subprocess.run(["cargo", "test", "--doc", "-q", "--manifest-path", str(crate_dir / "Cargo.toml")],
                            env={**__import__("os").environ, **env})
    return result.returncode == 0


def main() -> int:
    paths = [Path(p).resolve() for p in sys.argv[1:]] or [
        ROOT / "README.md", *sorted((ROOT / "crates").glob("*/README.md"))]
    failed = [p for p in paths if not check(p)]
    for path in failed:
        print(f"FAILED: the snippets of {path.relative_to(ROOT)} with the dependencies it tells a user to add")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
