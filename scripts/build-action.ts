/**
 * `npm run build:action`: bundles the Action (src/action/main.ts and everything it imports) into one
 * file, action/index.mjs, committed so that a workflow runs the repository as checked out with no
 * `npm ci`. test/action/bundle.test.ts fails when the committed file differs from a fresh build.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions } from "esbuild";
import { NODE_BUNDLE } from "./bundle-options.js";

export const ACTION_BUNDLE = fileURLToPath(new URL("../action/index.mjs", import.meta.url));

export const actionBuildOptions: BuildOptions = {
  ...NODE_BUNDLE,
  entryPoints: [fileURLToPath(new URL("../src/action/main.ts", import.meta.url))],
  write: false,
};

/** The bundle's text, as a fresh build makes it. */
export async function buildActionBundle(): Promise<string> {
  const result = await build(actionBuildOptions);
  const file = result.outputFiles?.[0];
  if (!file) throw new Error("esbuild produced no output for the Action");
  return file.text;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await buildActionBundle();
  writeFileSync(ACTION_BUNDLE, text);
  console.log(`wrote ${ACTION_BUNDLE} (${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB)`);
}
