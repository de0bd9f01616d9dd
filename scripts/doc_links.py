#!/usr/bin/env python3
"""Fails when the rendered docs of the workspace's crates show an intra-doc link as literal text.

rustdoc renders a link it cannot resolve as the bracketed text itself, such as
`[<code>Delivery</code>]`. This reads every page of our crates under target/doc (after
`cargo doc --workspace --no-deps`), keeps the item's own documentation and its inherent
methods (the trait and blanket implementations that follow carry the docs of other crates,
whose links only resolve on docs.rs), and prints each literal link it finds.

    python3 scripts/doc_links.py [target/doc]
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/doc")
crates = [
    "webhook_guard",
    "webhook_guard_tower",
    "webhook_guard_actix",
    "webhook_guard_redis",
    "webhook_guard_postgres",
]
cut = re.compile(r'id="(trait-implementations|synthetic-implementations|blanket-implementations)')
literal = re.compile(r"\[<code>[^<]*</code>\]|\[`[^`\]]+`\]")
found = 0
pages = 0
for crate in crates:
    for page in sorted((root / crate).rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        pages += 1
        match = cut.search(text)
        own = text[: match.start()] if match else text
        # Code blocks may show brackets on purpose.
        own = re.sub(r"<pre.*?</pre>", "", own, flags=re.S)
        for hit in literal.findall(own):
            found += 1
            print(f"{page.relative_to(root)}: {hit}")
if pages == 0:
    sys.exit(f"no pages under {root}: run cargo doc first")
print(f"{pages} pages read, {found} literal intra-doc links")
sys.exit(1 if found else 0)
