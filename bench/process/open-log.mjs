// Preloaded into a process (`node --import ./bench/process/open-log.mjs ...`): records every file it
// opens for reading, so the floor script can read exactly those files. Written to BENCH_OPEN_LOG,
// one path a line, at exit.
/* global process, URL, Buffer */
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { fileURLToPath } from "node:url";

const log = process.env.BENCH_OPEN_LOG;
const opened = new Set();

/**
 * Opened for reading only: "r", or numeric flags whose access mode (the low two bits, O_ACCMODE on
 * Linux and macOS, which Node does not export) is O_RDONLY, whatever else is set (O_NONBLOCK).
 */
const readOnly = (flags) => flags === undefined || flags === "r" || (typeof flags === "number" && (flags & 3) === fs.constants.O_RDONLY);

function note(path, flags) {
  if (!readOnly(flags)) return;
  const name = typeof path === "string" ? path : path instanceof URL ? fileURLToPath(path) : Buffer.isBuffer(path) ? path.toString() : undefined;
  if (name !== undefined) opened.add(name);
}

function flagsOf(options) {
  return typeof options === "string" || typeof options === "number" ? options : options?.flag;
}

if (log) {
  const { promises } = fs;
  const open = promises.open;
  promises.open = (path, flags, ...rest) => (note(path, flags), open(path, flags, ...rest));
  const readFile = promises.readFile;
  promises.readFile = (path, options) => (typeof path !== "object" || path instanceof URL || Buffer.isBuffer(path) ? note(path, flagsOf(options)) : undefined, readFile(path, options));
  const openCb = fs.open;
  fs.open = (path, flags, ...rest) => (note(path, typeof flags === "function" ? undefined : flags), openCb(path, flags, ...rest));
  const openSync = fs.openSync;
  fs.openSync = (path, flags, ...rest) => (note(path, flags), openSync(path, flags, ...rest));
  const readFileSync = fs.readFileSync;
  fs.readFileSync = (path, options) => (typeof path !== "number" ? note(path, flagsOf(options)) : undefined, readFileSync(path, options));
  const createReadStream = fs.createReadStream;
  fs.createReadStream = (path, options) => (note(path), createReadStream(path, options));
  syncBuiltinESMExports();
  process.on("exit", () => fs.writeFileSync(log, [...opened].join("\n")));
}
