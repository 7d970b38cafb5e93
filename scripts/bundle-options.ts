import type { BuildOptions } from "esbuild";

/** What the Action's bundle and the CLI's share: ES modules for Node 20, every package inlined. */
export const NODE_BUNDLE: BuildOptions = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  // Some bundled packages are CommonJS and require Node's modules; an ES module has no `require` of its own.
  banner: { js: 'import { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);' },
  legalComments: "none",
  logLevel: "warning",
};
