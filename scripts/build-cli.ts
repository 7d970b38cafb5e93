/**
 * The CLI as one bundle, in `npm run build` after the TypeScript build: `bin/selfharness.js` runs
 * dist/bundle/selfharness.js. Node loads a few files instead of some hundreds of modules (ours, zod,
 * commander, yaml), which is most of a command's start-up. Each command's modules stay in a chunk of
 * their own, loaded when that command runs (cli.ts imports them on demand). The trial readers' worker
 * thread has an entry of its own beside them: trial-pool.ts looks for `trial-worker.js` next to itself.
 */
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions } from "esbuild";

export const CLI_BUNDLE_DIR = fileURLToPath(new URL("../dist/bundle", import.meta.url));

export function cliBuildOptions(outdir = CLI_BUNDLE_DIR): BuildOptions {
  return {
    entryPoints: {
      selfharness: fileURLToPath(new URL("../src/cli.ts", import.meta.url)),
      "trial-worker": fileURLToPath(new URL("../src/traces/trial-worker.ts", import.meta.url)),
    },
    outdir,
    bundle: true,
    splitting: true,
    platform: "node",
    target: "node20",
    format: "esm",
    // Some bundled packages are CommonJS and require Node's modules; an ES module has no `require` of its own.
    banner: { js: 'import { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);' },
    legalComments: "none",
    logLevel: "warning",
  };
}

/** Writes the bundle to `outdir`, first removing what an earlier build left there (its chunks' names change). */
export async function buildCliBundle(outdir = CLI_BUNDLE_DIR): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  await build(cliBuildOptions(outdir));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildCliBundle();
}
