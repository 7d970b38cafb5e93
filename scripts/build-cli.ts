/**
 * The CLI as one bundle, in `npm run build` after the TypeScript build: `bin/selfharness.cjs` runs
 * dist/bundle/selfharness.js. Node loads a few files instead of some hundreds of modules (ours, zod,
 * commander, yaml), which is most of a command's start-up. Each command's modules stay in a chunk of
 * their own, loaded when that command runs (cli.ts imports them on demand). The trial readers' worker
 * thread has an entry of its own beside them: trial-pool.ts looks for `trial-worker.js` next to itself.
 * The program's help and version come from `top.cjs`, a CommonJS build of src/cli/top.ts that the bin
 * loads before any ES module, so that those answers take bare Node's start-up.
 */
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { NODE_BUNDLE } from "./bundle-options.js";

const CLI_BUNDLE_DIR = fileURLToPath(new URL("../dist/bundle", import.meta.url));

/** Writes the bundle to `outdir`, first removing what an earlier build left there (its chunks' names change). */
export async function buildCliBundle(outdir = CLI_BUNDLE_DIR): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    ...NODE_BUNDLE,
    entryPoints: {
      selfharness: fileURLToPath(new URL("../src/cli.ts", import.meta.url)),
      "trial-worker": fileURLToPath(new URL("../src/traces/trial-worker.ts", import.meta.url)),
    },
    outdir,
    splitting: true,
  });
  await build({
    ...NODE_BUNDLE,
    entryPoints: { top: fileURLToPath(new URL("../src/cli/top.ts", import.meta.url)) },
    outdir,
    format: "cjs",
    outExtension: { ".js": ".cjs" },
    // version.ts finds package.json from its own URL; CommonJS has none, but has __filename.
    banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { "import.meta.url": "__importMetaUrl" },
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildCliBundle();
}
