#!/usr/bin/env node
// The CLI is built into dist/ by `npm ci` / `npm install` (the `prepare` script): bundled, so that a
// command starts without loading hundreds of modules (scripts/build-cli.ts).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

// `selfharness worker` is the GitHub App's queue worker; every other command is the local CLI.
const worker = process.argv[2] === "worker";
const entry = new URL(worker ? "../dist/github/worker.js" : "../dist/bundle/selfharness.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error(`selfharness: ${fileURLToPath(entry)} is missing; run \`npm install\` (or \`npm run build\`) in the package first.`);
  process.exit(2);
}
const { main } = await import(entry.href);
const code = await main(process.argv);
// A running worker keeps the process alive and exits after draining on SIGTERM.
if (code !== null && code !== undefined) process.exitCode = code;
