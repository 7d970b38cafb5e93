import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Option, type Command } from "commander";
import type { SelfharnessConfig } from "../config/schema.js";
import { llmFromEnv, type Llm } from "../llm/client.js";
import type { LoopContext } from "../loop/host.js";
import { improve } from "../loop/improve.js";
import type { Weakness } from "../mine/types.js";
import { renderDiff, type Harness, type ProposeResult } from "../propose/index.js";
import { oneLine } from "../report/markdown.js";
import { applyCommand } from "./apply-hint.js";
import { LOCAL_RUN, localHost } from "./host.js";
import { cliLog, type CliIo } from "./io.js";
import { action, addConfigOptions, addFormatOption, loadCliConfig, readTraces, UsageError, type ConfigOptions, type TraceOptions } from "./options.js";

interface ProposeOptions extends ConfigOptions, TraceOptions {
  json?: boolean;
  out?: string;
  weakness?: string;
  model?: string;
  candidates?: string;
  fallback?: "playbook";
}

/** How often a person waiting for the model is told it is still being waited for. */
const PROGRESS_MS = 15_000;

export function registerPropose(program: Command, io: CliIo): void {
  const command = program
    .command("propose")
    .description(
      "Mine the traces for the top recurring weakness and propose small, guarded edits of the repository's harness, as the app would " +
        "(the model named by --model or propose.model via OPENAI_BASE_URL/OPENAI_API_KEY, else the offline playbook)",
    )
    .argument("<traces...>", "folders, files or .zip artifacts holding the eval traces")
    .option("--json", "print { weakness, proposals, discarded, proposer } as JSON")
    .option("--out <file>", "write the top candidate's unified diff to this file (apply it with git apply)")
    .option("--weakness <id>", "propose for this weakness (id or id prefix) instead of the top one")
    .option("--model <name>", "model on the OpenAI-compatible endpoint (overrides propose.model)")
    .addOption(new Option("--fallback <proposer>", "when the model cannot be reached or gives nothing usable, propose with the offline playbook instead of failing").choices(["playbook"]))
    .option("--candidates <k>", "how many candidates to ask for (overrides propose.candidates)")
    .addHelpText(
      "after",
      "\nA model that is named (--model or propose.model) but cannot be reached is an error (exit 2) unless --fallback playbook is given." +
        "\nExit codes: 0 candidates proposed (or no recurring weakness), 1 no candidate survived the guards, 2 bad input or an unreachable model.",
    );
  addConfigOptions(addFormatOption(command)).action(action("propose", io, (traces: string[], options: ProposeOptions) => runPropose(traces, options, io)));
}

async function runPropose(traces: string[], options: ProposeOptions, io: CliIo): Promise<number> {
  const config = await loadCliConfig(options);
  if (options.candidates !== undefined) {
    const k = Number(options.candidates);
    if (!Number.isInteger(k) || k < 1 || k > 10) throw new UsageError(`--candidates must be a whole number from 1 to 10, got ${JSON.stringify(options.candidates)}`);
    config.propose.candidates = k;
  }
  // The app may fall back as the configuration says; here a person asked for this model, so not
  // getting it is an error unless they said otherwise.
  const playbookFallback = options.fallback === "playbook";
  config.propose.fallback = playbookFallback ? "playbook" : "none";
  const model = options.model ?? config.propose.model;
  const endpoint = process.env.OPENAI_BASE_URL || "the OpenAI API";
  const seen: { unreachable?: string } = {};
  let llm: Llm | null = null;
  if (model) {
    const client = llmFromEnv(model, process.env, {
      timeoutMs: config.propose.timeoutSeconds * 1000,
      onRetry: (retry) => io.err(`model ${model}: ${retry.reason}; retrying in ${Math.ceil(retry.waitMs / 1000)}s (attempt ${retry.attempt} of ${retry.of})`),
    });
    if (client) llm = watched(client, endpoint, io, seen);
    else {
      const missing = `model ${model} is named but neither OPENAI_BASE_URL nor OPENAI_API_KEY is set`;
      if (!playbookFallback) throw new UsageError(`${missing}: set them, or pass --fallback playbook to propose with the offline playbook`);
      io.err(`warning: ${missing}: using the playbook (--fallback playbook)`);
    }
  }
  const ctx: LoopContext = { config, llm, labelCache: new Map() };

  const ingest = await readTraces(traces, options, io);
  const host = localHost({ traces: ingest, repoDir: path.resolve(options.repo), config, log: cliLog(io) });
  const outcome = await improve(host, ctx, LOCAL_RUN, options.weakness !== undefined ? { weakness: options.weakness } : {});
  if (seen.unreachable) {
    const what = `model ${model} at ${endpoint} could not be reached: ${seen.unreachable}`;
    if (!playbookFallback) throw new UsageError(`${what}. Pass --fallback playbook to propose with the offline playbook instead`);
    io.err(`warning: ${what}: the playbook proposes instead (--fallback playbook)`);
  }

  if (outcome.status === "skipped") {
    if (outcome.kind === "no-weakness") {
      if (options.json) io.out(JSON.stringify({ weakness: null, proposals: [], discarded: [], proposer: null }, null, 2));
      else io.out(`${outcome.reason.charAt(0).toUpperCase()}${outcome.reason.slice(1)}: nothing to propose.`);
      return 0;
    }
    if (outcome.kind !== "no-candidate" || !outcome.weakness) throw new UsageError(outcome.reason);
    const result: ProposeResult = outcome.result ?? { proposals: [], discarded: [{ reason: outcome.reason }], proposer: llm ? "llm" : "playbook" };
    if (options.out) io.err(`selfharness propose: no candidate survived the guards, so nothing was written to ${options.out}`);
    print(io, options, { weakness: outcome.weakness, evidenceTokens: null, config, harness: null, result, diffs: [], ...(llm ? { model: llm.model } : {}) });
    return 1;
  }

  const { draft } = outcome;
  const diffs = draft.result.proposals.map((proposal) => renderDiff(draft.harness, proposal, draft.paths));
  if (options.out) await writeFile(options.out, diffs[0]!);
  print(io, options, { weakness: draft.weakness, evidenceTokens: draft.evidence.tokens, config, harness: draft.harness, result: draft.result, diffs, ...(llm ? { model: llm.model } : {}) });
  if (options.out && !options.json) io.out(`\nWrote the top candidate's diff to ${options.out} (apply it with: ${applyCommand(options.repo, options.out)})`);
  return 0;
}

/** The model, telling the person at the terminal what is being waited for, and noting when no answer came back. */
function watched(llm: Llm, endpoint: string, io: CliIo, seen: { unreachable?: string }): Llm {
  return {
    model: llm.model,
    async completeJson(request) {
      io.err(`asking model ${llm.model} at ${endpoint}...`);
      const started = Date.now();
      const ticker = setInterval(() => io.err(`still waiting for model ${llm.model} (${Math.round((Date.now() - started) / 1000)}s)`), PROGRESS_MS);
      ticker.unref();
      try {
        const answer = await llm.completeJson(request);
        if (!answer.ok && answer.unreachable) seen.unreachable = answer.reason;
        return answer;
      } finally {
        clearInterval(ticker);
      }
    },
  };
}

function print(io: CliIo, options: ProposeOptions, view: ProposalView): void {
  if (options.json) {
    const { weakness, result } = view;
    io.out(JSON.stringify({ weakness, proposals: result.proposals, discarded: result.discarded, proposer: result.proposer, ...(result.note ? { note: result.note } : {}) }, null, 2));
  } else {
    io.out(renderText(view));
  }
}

interface ProposalView {
  weakness: Weakness;
  evidenceTokens: number | null;
  config: SelfharnessConfig;
  harness: Harness | null;
  result: ProposeResult;
  diffs: string[];
  model?: string;
}

function renderText(input: ProposalView): string {
  const { weakness, result, harness } = input;
  const lines = [
    `Weakness ${weakness.id}: ${weakness.title}`,
    `  ${weakness.failures} failures over ${weakness.tasks.length} tasks in ${weakness.runs.length} runs (${Math.round(weakness.share * 100)}% of mined failures); mechanism ${weakness.signature.mechanism}, cause ${weakness.signature.cause}`,
    ...(input.evidenceTokens !== null ? [`  evidence: ${input.evidenceTokens} tokens (budget ${input.config.mine.evidenceTokens})`] : []),
    ...(harness ? [`Harness ${harness.version}: ${harness.files.length} files${surfaceList(harness)}`] : []),
    `Proposer: ${result.proposer === "llm" ? `model ${input.model ?? ""}`.trim() : "playbook (offline templates, no model)"}${result.note ? ` (${oneLine(result.note)})` : ""}`,
  ];
  if (result.proposals.length === 0) lines.push("", "No candidate edit survived the guards.");
  // Model text reaches the terminal cleaned: no escape sequence can rewrite what is shown.
  result.proposals.forEach((proposal, i) => {
    lines.push(
      "",
      `Candidate ${i + 1}: ${oneLine(proposal.title)}`,
      `  Rationale: ${oneLine(proposal.rationale)}`,
      `  Expected:  ${oneLine(proposal.expected)}`,
      `  Preserved: ${oneLine(proposal.preserved)}`,
      `  Risk:      ${oneLine(proposal.risk)}`,
      "",
      input.diffs[i]!.trimEnd(),
    );
  });
  if (result.discarded.length > 0) {
    lines.push("", `Discarded (${result.discarded.length}):`);
    for (const d of result.discarded) lines.push(`  - ${d.title ? `${oneLine(d.title)}: ` : ""}${oneLine(d.reason)}`);
  }
  return lines.join("\n");
}

function surfaceList(harness: Harness): string {
  const entries = Object.entries(harness.surfaces);
  return entries.length > 0 ? ` (${entries.map(([name, file]) => `${name}: ${file}`).join(", ")})` : "";
}
