// The Worker's entry module, for workerd: instantiates the wasm-bindgen output of this crate
// (built with `wasm-bindgen --target bundler --out-name index`) and exports the fetch handler
// and the Durable Object class. `wrangler` users do not need it: `worker-build` writes its own.
import * as glue from "./index_bg.js";
import module from "./index_bg.wasm";

const instance = new WebAssembly.Instance(module, { "./index_bg.js": glue });
glue.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start();

export { DedupObject } from "./index_bg.js";
export default { fetch: glue.fetch };
