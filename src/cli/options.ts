import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { defaultConfig } from "../config/defaults.js";
import { CONFIG_PATH } from "../config/path.js";
import type { SelfharnessConfig } from "../config/schema.js";
import { INPUT_FORMATS, type InputFormat } from "../traces/formats.js";
import { readWithBlockingCalls } from "../traces/files.js";
import { isIngestError, streamTrials } from "../traces/index.js";
import type { IngestError, IngestResult, Trial } from "../traces/types.js";
import type { CliIo } from "./io.js";
import { parseTaskList } from "./tasks.js";

// Every command reads traces, and the CLI's main thread has nothing else to keep responsive: its file
// reads block, skipping the hops through libuv's thread pool (files.ts). 7-9% faster on the bench's
// 400-trial runs. The app never loads this module.
readWithBlockingCalls();

/** Input a command cannot work with; the CLI prints it as `selfharness <command>: <message>` and exits 2. */
export class UsageError extends Error {}

/** The options every command that reads traces shares. */
export interface TraceOptions {
  format: InputFormat;
}

/** The options of commands that read the repository's configuration. */
export interface ConfigOptions {
  repo: string;
  config?: string;
}

export function addFormatOption(command: Command): Command {
  return command.addOption(new Option("--format <format>", "trace format").choices(INPUT_FORMATS).default("auto"));
}

export function addConfigOptions(command: Command, what = "the harness repository: its .github/selfharness.yml is read"): Command {
  return command.option("--repo <dir>", what, ".").option("--config <file>", `the configuration file (default: <repo>/${CONFIG_PATH}; without one, the defaults)`);
}

/** A whole number of at least `min`, for commander. */
export function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number of ${min} or more`);
    return n;
  };
}

/**
 * The configuration a command acts on: `--config`, else the repository's `.github/selfharness.yml`,
 * else the defaults. A file that is named but missing, unreadable or invalid is an error naming it.
 */
export async function loadCliConfig(options: ConfigOptions): Promise<SelfharnessConfig> {
  await requireFolder(options.repo, "--repo");
  const file = options.config ?? path.join(options.repo, CONFIG_PATH);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && options.config === undefined) return defaultConfig();
    throw new UsageError(`${file}: cannot be read: ${code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  // The YAML parser and the schema (zod with it) are loaded only for a file to parse: most runs have none.
  const { formatProblems, parseConfig } = await import("../config/load.js");
  const parsed = parseConfig(text, file);
  if (!parsed.ok) throw new UsageError(`invalid configuration\n${formatProblems(parsed.problems)}`);
  return parsed.config;
}

/** A folder that must exist: a mistyped path would otherwise read as a repository without harness files. */
async function requireFolder(dir: string, option: string): Promise<void> {
  const found = await stat(dir).catch((error: NodeJS.ErrnoException) => error);
  if (found instanceof Error) throw new UsageError(`${option} ${dir}: ${found.code === "ENOENT" ? "no such folder" : found.message}`);
  if (!found.isDirectory()) throw new UsageError(`${option} ${dir}: not a folder`);
}

/**
 * Streams trials to `onTrial` one at a time, printing each unreadable file as a warning; no trial
 * at all is an error. Nothing of a trial is kept unless `onTrial` keeps it.
 */
export async function streamTraces(
  paths: string[],
  options: TraceOptions,
  io: CliIo,
  onTrial: (trial: Trial) => void | Promise<void>,
  onError?: (error: IngestError) => void,
): Promise<{ trials: number; errors: number }> {
  let trials = 0;
  let errors = 0;
  for await (const item of streamTrials(paths, { format: options.format })) {
    if (isIngestError(item)) {
      errors++;
      onError?.(item);
      io.err(`warning: ${item.path}: ${item.message}`);
    } else {
      trials++;
      await onTrial(item);
    }
  }
  if (trials === 0) {
    throw new UsageError(`no trials could be read from ${paths.join(" ")}${errors > 0 ? " (see the warnings above)" : ""}`);
  }
  return { trials, errors };
}

/** Reads traces, printing each unreadable file as a warning; no trial at all is an error. */
export async function readTraces(paths: string[], options: TraceOptions, io: CliIo): Promise<IngestResult> {
  const result: IngestResult = { trials: [], errors: [] };
  await streamTraces(paths, options, io, (trial) => void result.trials.push(trial), (error) => result.errors.push(error));
  return result;
}

/** A file of task names, one per line; a missing or empty file is an error naming it. */
export async function readTaskFile(file: string, what: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === "ENOENT" ? `${what} file ${file} does not exist` : `cannot read the ${what} file ${file}: ${code ?? String(error)}`);
  }
  const tasks = parseTaskList(text);
  if (tasks.length === 0) throw new UsageError(`the ${what} file ${file} names no task (one task name per line)`);
  return tasks;
}

/** Runs a command's action; a `UsageError` is printed with the command's name and exits 2. */
export function action<A extends unknown[]>(name: string, io: CliIo, run: (...args: A) => Promise<number | void>) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await run(...args);
      if (typeof code === "number") io.exit(code);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.err(`selfharness ${name}: ${error.message}`);
      io.exit(2);
    }
  };
}
