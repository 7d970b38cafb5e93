import type { Command } from "commander";
import { formatTable } from "../report/table.js";
import { isIngestError, streamTrials } from "../traces/index.js";
import type { IngestError, IngestTotals, Trial } from "../traces/types.js";
import type { CliIo } from "./io.js";
import { addFormatOption, type TraceOptions } from "./options.js";

function tokenCell(trial: Trial): string {
  if (!trial.tokens) return "-";
  return String((trial.tokens.input ?? 0) + (trial.tokens.output ?? 0));
}

/** `JSON.stringify(value, null, 2)` as it reads nested `depth` levels deep in a larger document. */
const nested = (value: unknown, depth: number) => JSON.stringify(value, null, 2).replaceAll("\n", `\n${"  ".repeat(depth)}`);

/**
 * A trial as it reads two levels deep (in `trials`), after its line break and indent: stringified
 * inside two arrays and cut out, rather than indented again by a replace and concatenated. Both make
 * a copy of a large text, and the encoding for the output makes another of a concatenation.
 */
function nestedTrial(trial: Trial): string {
  const text = JSON.stringify([[trial]], null, 2);
  // "[\n  [" before the line break, "\n  ]\n]" after the trial.
  return text.slice(text.indexOf("\n", 2), text.length - 6);
}

/**
 * Writes `{ trials, totals, errors }` exactly as `JSON.stringify(..., null, 2)` would, one trial at a
 * time as it is read: the document is never held whole, nor are the trials.
 */
class JsonOutput {
  private trials = 0;
  constructor(private readonly io: CliIo) {
    io.write('{\n  "trials": [');
  }
  trial(trial: Trial): void {
    if (this.trials++ > 0) this.io.write(",");
    this.io.write(nestedTrial(trial));
  }
  end(totals: IngestTotals, errors: IngestError[]): void {
    this.io.write(`${this.trials > 0 ? "\n  " : ""}],\n  "totals": ${nested(totals, 1)},\n  "errors": ${nested(errors, 1)}\n}\n`);
  }
}

export function registerIngest(program: Command, io: CliIo): void {
  const command = program
    .command("ingest")
    .description("Read eval traces (Harbor job folders, ATIF trajectories, Terminal-Bench 1 runs, zip artifacts) into trials")
    .argument("<path...>", "folders, files or .zip artifacts to read")
    .option("--json", "print { trials, totals, errors } as JSON instead of a table");
  addFormatOption(command).action(async (paths: string[], options: TraceOptions & { json?: boolean }) => {
    // Streamed: a trial is written (or reduced to its table row) and dropped, so memory stays flat
    // however many trials the inputs hold.
    const json = options.json ? new JsonOutput(io) : undefined;
    const rows: (string | number)[][] = [];
    const errors: IngestError[] = [];
    const totals: IngestTotals = { trials: 0, pass: 0, fail: 0, invalid: 0 };
    for await (const item of streamTrials(paths, { format: options.format })) {
      if (isIngestError(item)) {
        errors.push(item);
        io.err(`${item.path}: ${item.message}`);
        continue;
      }
      totals.trials++;
      totals[item.outcome]++;
      if (json) json.trial(item);
      else rows.push([item.task, item.attempt, item.outcome, item.infra?.kind ?? "", item.steps.length, tokenCell(item)]);
    }
    if (json) json.end(totals, errors);
    else if (totals.trials > 0) {
      io.out(formatTable(["task", "attempt", "outcome", "infra", "steps", "tokens"], rows, ["left", "right", "left", "left", "right", "right"]));
      io.out(`\n${totals.trials} trials: ${totals.pass} pass, ${totals.fail} fail, ${totals.invalid} invalid${errors.length ? ` (${errors.length} errors, see stderr)` : ""}`);
    }
    if (totals.trials === 0) {
      io.err("selfharness ingest: no trials could be read from the given paths");
      io.exit(2);
    } else if (errors.some((e) => e.message === "path does not exist")) {
      io.exit(2);
    }
  });
}
