import { readFile, stat } from "node:fs/promises";
import { InvalidArgumentError, Option, type Command } from "commander";
import { formatProblems, parseConfig } from "../config/load.js";
import type { SelfharnessConfig } from "../config/schema.js";
import { tasksOf } from "../gate/counts.js";
import { judge } from "../gate/judge.js";
import { countByTask } from "../gate/outcomes.js";
import { taskWeights, type TaskWeights } from "../gate/weights.js";
import type { Decision, StageTrials } from "../gate/types.js";
import { formatVerdictText } from "../report/verdict.js";
import { readTrials } from "../traces/index.js";
import type { IngestResult } from "../traces/types.js";
import { INPUT_FORMATS, type InputFormat } from "../traces/formats.js";
import type { CliIo } from "./io.js";
import { action, readTaskFile, UsageError } from "./options.js";

interface GateOptions {
  baseline: string[];
  candidate: string[];
  heldOut?: string;
  tasks?: string;
  targeted?: string;
  history?: string[];
  rule?: "paper" | "statistical";
  alpha?: number;
  margin?: number;
  seed?: number;
  fixed?: boolean;
  config?: string;
  format: InputFormat;
  json?: boolean;
}

/** Exit codes: a verdict is never mistaken for unusable input (2, a `UsageError`). */
const EXIT: Record<Decision, number> = { accept: 0, reject: 1, inconclusive: 3, "needs-more-evidence": 4 };

/** The same range as the configuration's gate.alpha. */
function alpha(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 0.5) throw new InvalidArgumentError("alpha must be a number between 0 and 0.5 (exclusive).");
  return n;
}

function share(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError("margin must be a number in [0, 1), as a share of tasks (0.05 = 5 points).");
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError("seed must be an integer.");
  return n;
}

/** `--targeted` is a file of task names when such a file exists, else a comma-separated list. */
async function targetedTasks(value: string | undefined): Promise<string[]> {
  if (value === undefined) return [];
  const isFile = await stat(value).then(
    (s) => s.isFile(),
    () => false,
  );
  if (isFile) return readTaskFile(value, "targeted tasks");
  const tasks = value.split(",").map((t) => t.trim()).filter(Boolean);
  if (tasks.length === 0) throw new UsageError("--targeted names no task");
  return tasks;
}

async function loadConfig(path: string | undefined): Promise<SelfharnessConfig> {
  let text = "";
  if (path !== undefined) {
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read the configuration file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  const result = parseConfig(text, path ?? "defaults");
  if (!result.ok) throw new UsageError(`invalid configuration:\n${formatProblems(result.problems)}`);
  return result.config;
}

/** `2=runs/base-2` is a path of stage 2; a path without a stage belongs to stage 1. */
const STAGE_PREFIX = /^(\d{1,2})=(.+)$/s;

function byStage(paths: readonly string[]): Map<number, string[]> {
  const stages = new Map<number, string[]>();
  for (const path of paths) {
    const match = STAGE_PREFIX.exec(path);
    const stage = match ? Number(match[1]) : 1;
    if (stage < 1) throw new UsageError(`stage numbers start at 1: ${path}`);
    stages.set(stage, [...(stages.get(stage) ?? []), match ? match[2]! : path]);
  }
  return stages;
}

/** The runs of each stage, both sides read; stages must be numbered 1, 2, ... and each must have both sides. */
async function readStages(options: GateOptions, io: CliIo): Promise<{ stages: StageTrials[]; sides: Record<"baseline" | "candidate", IngestResult[]> }> {
  const baseline = byStage(options.baseline);
  const candidate = byStage(options.candidate);
  const count = Math.max(...baseline.keys(), ...candidate.keys());
  const stages: StageTrials[] = [];
  const sides: Record<"baseline" | "candidate", IngestResult[]> = { baseline: [], candidate: [] };
  for (let stage = 1; stage <= count; stage++) {
    const missing = (["baseline", "candidate"] as const).filter((side) => !(side === "baseline" ? baseline : candidate).has(stage));
    if (missing.length > 0) throw new UsageError(`stage ${stage} has no --${missing.join(" and no --")} runs (stages are numbered 1, 2, ... and each needs both sides)`);
    const label = (side: string) => (count > 1 ? `${side} stage ${stage}` : side);
    const b = await readSide(label("baseline"), baseline.get(stage)!, options.format, io);
    const c = await readSide(label("candidate"), candidate.get(stage)!, options.format, io);
    sides.baseline.push(b);
    sides.candidate.push(c);
    stages.push({ baseline: b.trials, candidate: c.trials });
  }
  return { stages, sides };
}

async function readSide(label: string, paths: string[], format: GateOptions["format"], io: CliIo): Promise<IngestResult> {
  const result = await readTrials(paths, { format });
  for (const error of result.errors) io.err(`warning: ${label}: ${error.path}: ${error.message}`);
  if (result.trials.length === 0) {
    throw new UsageError(`no trials could be read from the ${label} runs ${paths.join(" ")}${result.errors.length > 0 ? " (see the warnings above)" : ""}`);
  }
  return result;
}

/** The improvement test's weights from the base's earlier runs, as the app fixes them when a validation starts. */
async function historyWeights(paths: string[], tasks: readonly string[], format: GateOptions["format"], io: CliIo): Promise<TaskWeights> {
  const history = await readSide("history", paths, format, io);
  return taskWeights(tasks, countByTask(history.trials));
}

function describeSide(label: string, results: readonly IngestResult[]): string {
  const trials = results.flatMap((r) => r.trials);
  const runs = new Set(trials.map((t) => t.run)).size;
  const tasks = new Set(trials.map((t) => t.task)).size;
  const invalid = trials.filter((t) => t.outcome === "invalid").length;
  const stages = results.length > 1 ? ` over ${results.length} stages` : "";
  return `${label}: ${trials.length} trials of ${tasks} tasks in ${runs} run${runs === 1 ? "" : "s"}${stages}${invalid > 0 ? `, ${invalid} invalid` : ""}`;
}

export function registerGate(program: Command, io: CliIo): void {
  program
    .command("gate")
    .description(
      "Decide whether a candidate harness beats the baseline, with the app's rules: paired by task, every trial of a side pooled, " +
        "invalid trials left out, and a staged validation judged stage by stage. " +
        "Exit code 0 = accept, 1 = reject, 2 = unusable input, 3 = inconclusive, 4 = needs more evidence (the tasks and trials of the next stage are printed).",
    )
    .requiredOption("--baseline <path...>", "baseline run folders, files or zips; several runs count as more trials; prefix N= for a later stage (2=runs/base-2)")
    .requiredOption("--candidate <path...>", "candidate run folders, files or zips, staged the same way")
    .option("--held-out <file>", "file naming the held-out tasks, one per line (default: the config's split.heldOut, else all tasks form one split)")
    .option("--tasks <file>", "file naming the regression tasks, one per line (default: every task either side ran; a task one side never ran counts as not compared)")
    .option("--targeted <tasks>", "tasks the proposal aims to fix: comma-separated, or a file with one per line")
    .option("--history <path...>", "the base's earlier eval runs (the ones the weakness was mined from): the improvement test then weighs a pass 3 on a task the base never passed there, 1 on one it always passed, 2 otherwise, as the app does")
    .addOption(new Option("--rule <rule>", "decision rule (default: the config's gate.rule)").choices(["paper", "statistical"]))
    .option("--alpha <p>", "largest chance of accepting an edit that changes nothing (default: the config's gate.alpha)", alpha)
    .option("--margin <share>", "loss tolerated on a split before it vetoes, as a share of tasks (default 0.05)", share)
    .option("--seed <n>", "seed for the order of tasks when the budget cannot run them all (default 1)", integer)
    .option("--fixed", "judge the runs as a fixed design: one look with all of alpha, no further stage")
    .option("--config <file>", "a .github/selfharness.yml to take gate and split settings from")
    .addOption(new Option("--format <format>", "trace format").choices(INPUT_FORMATS).default("auto"))
    .option("--json", "print the verdict as JSON")
    .action(
      action("gate", io, async (options: GateOptions) => {
        const config = await loadConfig(options.config);
        const gate = {
          ...config.gate,
          ...(options.rule !== undefined ? { rule: options.rule } : {}),
          ...(options.alpha !== undefined ? { alpha: options.alpha } : {}),
          ...(options.margin !== undefined ? { margin: options.margin } : {}),
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          ...(options.fixed ? { sequential: { ...config.gate.sequential, enabled: false } } : {}),
        };
        const heldOut = options.heldOut !== undefined ? await readTaskFile(options.heldOut, "held-out tasks") : config.split.heldOut;
        const targeted = await targetedTasks(options.targeted);
        const tasks = options.tasks !== undefined ? await readTaskFile(options.tasks, "regression tasks") : undefined;
        const { stages, sides } = await readStages(options, io);
        const weights = options.history ? await historyWeights(options.history, [...new Set([...(tasks ?? tasksOf(stages)), ...targeted])], options.format, io) : undefined;
        const verdict = judge({ stages, ...(tasks ? { tasks } : {}), heldOut, targeted, config: gate, ...(weights ? { weights } : {}) });
        if (options.json) io.out(JSON.stringify(verdict, null, 2));
        else io.out(`${describeSide("baseline", sides.baseline)}\n${describeSide("candidate", sides.candidate)}\n\n${formatVerdictText(verdict)}`);
        return EXIT[verdict.decision];
      }),
    );
}
