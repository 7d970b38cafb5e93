import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import type { LoopContext } from "../loop/host.js";
import { findWeakness, mineSummaries, trialSummarizer } from "../loop/mine.js";
import type { LabelEntry } from "../mine/label.js";
import type { MineResult, TrialSummary, Weakness } from "../mine/index.js";
import { isIngestError, streamTrials } from "../traces/index.js";
import type { Trial } from "../traces/types.js";
import { formatTable } from "../report/table.js";
import type { CliIo } from "./io.js";
import { action, addConfigOptions, addFormatOption, loadCliConfig, readTaskFile, streamTraces, UsageError, wholeNumber, type ConfigOptions, type TraceOptions } from "./options.js";

interface MineCliOptions extends ConfigOptions, TraceOptions {
  heldOut?: string;
  minFailures?: number;
  minTasks?: number;
  json?: boolean;
  evidence?: string;
  tokenBudget?: number;
  labelBudget?: number;
  model?: string;
  labelCache?: string;
}

/** Model labels by trial id, kept between runs; a missing file is an empty cache. */
async function readLabelCache(file: string): Promise<Map<string, LabelEntry>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw new UsageError(`cannot read label cache ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`label cache ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`label cache ${file} must be a JSON object keyed by trial id`);
  // The labeller's module (and zod with it) is loaded only when labels are asked for.
  const { LABEL_CLASSES } = await import("../mine/label.js");
  const known = new Set<string>(LABEL_CLASSES);
  const cache = new Map<string, LabelEntry>();
  for (const [id, entry] of Object.entries(parsed as Record<string, { kind?: unknown; evidence?: unknown }>)) {
    // Entries this version does not understand are asked again rather than trusted.
    if (entry && (entry.kind === null || (typeof entry.kind === "string" && known.has(entry.kind))) && typeof entry.evidence === "string") {
      cache.set(id, { kind: entry.kind as LabelEntry["kind"], evidence: entry.evidence });
    }
  }
  return cache;
}

/** A second, quiet read of the same traces (the first printed the warnings). */
async function readAgain(paths: string[], options: TraceOptions, keep: (trial: Trial) => unknown): Promise<void> {
  for await (const item of streamTrials(paths, { format: options.format })) if (!isIngestError(item)) keep(item);
}

function indent(text: string, prefix = "    "): string {
  return text
    .split("\n")
    .map((line) => prefix + line)
    .join("\n");
}

function exampleLines(weakness: Weakness): string {
  const example = weakness.examples[0];
  if (!example) return "    (no failure in this weakness has a trajectory)";
  const lines = example.excerpt.split("\n");
  const shown = lines.length > 12 ? [...lines.slice(0, 4), `[... ${lines.length - 10} lines ...]`, ...lines.slice(-6)] : lines;
  return `  example ${example.trial}:\n${indent(shown.join("\n"))}`;
}

const byCount = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");

function modelLine(weakness: Weakness, target: string | undefined): string | undefined {
  const rates = weakness.byModel ?? [];
  if (rates.length < 2) return undefined;
  const shown = rates.map((r) => `${r.model}${r.model === target ? " (target)" : ""} ${r.failures}/${r.trials}`).join(", ");
  return `  by model: ${shown}; ${weakness.lift ?? 1}× the other models' rate`;
}

function printReport(io: CliIo, result: MineResult, heldOut: string[]): void {
  const { weaknesses, invalid, mined, suspectTasks, target } = result;
  if (weaknesses.length === 0) {
    io.out("No recurring weakness found.");
  } else {
    const rows = weaknesses.map((w, i) => [i + 1, w.id, w.tasks.length, w.failures, `${Math.round(w.share * 100)}%`, w.signature.mechanism, w.withoutTrajectory > 0 ? `${w.withoutTrajectory}/${w.failures}` : "-"]);
    io.out(formatTable(["#", "id", "tasks", "failures", "share", "mechanism", "no actions"], rows, ["right", "left", "right", "right", "right", "left", "right"]));
    for (const [i, w] of weaknesses.entries()) {
      const models = modelLine(w, target);
      io.out(`\n${i + 1}. ${w.title} [${w.id}]\n${indent(w.summary, "  ")}${models ? `\n${models}` : ""}\n${exampleLines(w)}`);
    }
  }
  if (suspectTasks.length > 0) {
    io.out("\nSuspect tasks (no trial passes; not mined):");
    for (const s of suspectTasks) io.out(`  ${s.task}: ${s.reason} (${s.failures} failure${s.failures === 1 ? "" : "s"})`);
  }
  const kinds = byCount(invalid.byKind);
  io.out(`\nInvalid (not mined): ${invalid.count}${kinds ? ` (${kinds})` : ""}`);
  io.out(`Mined: ${mined.trials} trials, ${mined.failures} failures, ${mined.unexplained} without a recognised mechanism${mined.wrongSolution > 0 ? `, ${mined.wrongSolution} labelled a plain wrong solution` : ""}`);
  const judged = byCount(mined.withoutActions.judged);
  io.out(`Judged without the agent's actions (only the harness's record): ${mined.withoutActions.count} of ${mined.failures} failures${judged ? ` (${judged})` : ""}`);
  io.out(`Held out (never mined): ${heldOut.length} task${heldOut.length === 1 ? "" : "s"}${heldOut.length > 0 ? ` (${heldOut.slice(0, 8).join(", ")}${heldOut.length > 8 ? ", ..." : ""})` : ""}`);
}

export function registerMine(program: Command, io: CliIo): void {
  const command = program
    .command("mine")
    .description("Find failure mechanisms that recur across tasks and runs, ranked by breadth, with evidence packets (the same mining the app does)")
    .argument("<path...>", "folders, files or .zip artifacts with traces")
    .option("--held-out <file>", "tasks never mined: one per line, # comments (default: the configuration's split)")
    .option("--min-failures <n>", "failures a weakness needs (default: mine.minFailures)", wholeNumber(1))
    .option("--min-tasks <n>", "distinct tasks a weakness needs (default: mine.minTasks)", wholeNumber(1))
    .option("--json", "print { weaknesses, invalid, mined } as JSON")
    .option("--evidence <id>", "print the evidence packet of one weakness (an id prefix is enough)")
    .option("--token-budget <n>", "token budget of an evidence packet (default: mine.evidenceTokens)", wholeNumber(500))
    .option("--label-budget <n>", "model calls allowed to label failures no detector explains (default: mine.labelBudget; 0 = off)", wholeNumber(0))
    .option("--model <name>", "model that labels failures, on OPENAI_BASE_URL (default: propose.model, else OPENAI_MODEL)")
    .option("--label-cache <file>", "JSON file of model labels by trial id, read and updated");
  addConfigOptions(addFormatOption(command), "the harness repository whose .github/selfharness.yml sets the split and the mining settings").action(
    action("mine", io, async (paths: string[], options: MineCliOptions) => {
      const config = await loadCliConfig(options);
      if (options.heldOut !== undefined) config.split.heldOut = await readTaskFile(options.heldOut, "held-out");
      if (options.minFailures !== undefined) config.mine.minFailures = options.minFailures;
      if (options.minTasks !== undefined) config.mine.minTasks = options.minTasks;
      if (options.tokenBudget !== undefined) config.mine.evidenceTokens = options.tokenBudget;
      if (options.labelBudget !== undefined) config.mine.labelBudget = options.labelBudget;
      const ctx: LoopContext = { config, llm: null, labelCache: new Map() };
      if (config.mine.labelBudget > 0) {
        // The model client is loaded only when a model is asked for: plain mining starts without it.
        const { llmFromEnv } = await import("../llm/client.js");
        ctx.llm = llmFromEnv(options.model ?? config.propose.model);
        if (!ctx.llm) throw new UsageError("--label-budget needs a model: pass --model (or set OPENAI_MODEL) and set OPENAI_BASE_URL or OPENAI_API_KEY");
        if (options.labelCache) ctx.labelCache = await readLabelCache(options.labelCache);
      }
      // Each trial is summarised as it is read and let go: memory stays flat however large the corpus.
      const summarize = trialSummarizer(ctx);
      const summaries: TrialSummary[] = [];
      await streamTraces(paths, options, io, (trial) => void summaries.push(summarize(trial)));
      const mined = await mineSummaries(ctx, summaries);
      if (mined.labelling) {
        const { calls, fromCache, skipped, errors } = mined.labelling;
        for (const error of errors) io.err(`label ${error.trial}: ${error.reason}`);
        io.err(`labelled ${mined.labels?.size ?? 0} failures (${calls} model calls, ${fromCache} cached, ${skipped} skipped)`);
        if (options.labelCache) await writeFile(options.labelCache, `${JSON.stringify(Object.fromEntries(ctx.labelCache), null, 2)}\n`);
      }

      if (options.evidence !== undefined) {
        const found = findWeakness(mined.result.weaknesses, options.evidence);
        if (!found.ok) throw new UsageError(found.reason);
        // The packet quotes whole trials: the weakness's failures and the passing trials, read again.
        const members = new Set(found.weakness.trials);
        const trials: Trial[] = [];
        await readAgain(paths, options, (trial) => (members.has(trial.id) || trial.outcome === "pass") && trials.push(trial));
        const { evidenceFor } = await import("../loop/draft.js");
        const packet = evidenceFor(ctx, found.weakness, { ...mined, trials });
        io.out(options.json ? JSON.stringify(packet, null, 2) : `${packet.text}\n\n(${packet.tokens} tokens)`);
        return;
      }
      if (options.json) io.out(JSON.stringify(mined.result, null, 2));
      else printReport(io, mined.result, mined.heldOut);
    }),
  );
}
