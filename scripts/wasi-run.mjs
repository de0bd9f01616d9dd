// Runs a `wasm32-wasip1` program (a test binary, say) under Node's WASI, with the arguments
// and the environment it is given and the current directory readable as `.`. Cargo uses it as
// the target's runner (`CARGO_TARGET_WASM32_WASIP1_RUNNER="node scripts/wasi-run.mjs"`), so
// `cargo test --target wasm32-wasip1` runs the tests on a WebAssembly runtime.
import { readFile } from "node:fs/promises";
import { argv, cwd, env, exit } from "node:process";
import { WASI } from "node:wasi";

const [, , program, ...args] = argv;
if (!program) {
  console.error("usage: node scripts/wasi-run.mjs <program.wasm> [arguments...]");
  exit(2);
}
const wasi = new WASI({
  version: "preview1",
  args: [program, ...args],
  env,
  preopens: { ".": cwd() },
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(program));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
exit(wasi.start(instance));
