#!/usr/bin/env node
// The CLI is built into dist/ by `npm ci` / `npm install` (the `prepare` script): bundled, so that a
// command starts without loading hundreds of modules (scripts/build-cli.ts). This file is CommonJS,
// and answers `--help` and `--version` through dist/bundle/top.cjs, so that those start as fast as
// bare Node: an ES module entry costs Node's module loader as well (src/cli/top.ts).
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

/** The path of a built file, or the process ends saying how to build it. */
function built(file) {
  const path = join(__dirname, file);
  if (existsSync(path)) return path;
  console.error(`selfharness: ${path} is missing; run \`npm install\` (or \`npm run build\`) in the package first.`);
  process.exit(2);
}

/** Runs the `main` of an ES module entry on the command line. */
function run(entry) {
  import(pathToFileURL(built(entry)).href)
    .then(({ main }) => main(process.argv))
    .then((code) => {
      // A running worker keeps the process alive and exits after draining on SIGTERM.
      if (code !== null && code !== undefined) process.exitCode = code;
    });
}

// `selfharness worker` is the GitHub App's queue worker; every other command is the local CLI.
if (process.argv[2] === "worker") run("../dist/github/worker.js");
else {
  const code = require(built("../dist/bundle/top.cjs")).answerTopLevel(process.argv);
  if (code === undefined) run("../dist/bundle/selfharness.js");
  else process.exitCode = code;
}
