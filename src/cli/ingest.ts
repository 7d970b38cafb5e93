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

/** About how many characters go out in one write: a trial's text is written in pieces, never whole. */
const PIECE = 16 * 1024;

/**
 * Writes `value` as `JSON.stringify(value, null, 2)` prints it `depth` levels deep in a larger
 * document, in pieces: the containers of its first `open` levels key by key, each thing they hold
 * stringified on its own. A trial's text (hundreds of KB for a long trajectory) is never made whole:
 * a string that large lives outside the young generation until a full collection, and 1,600 Harbor
 * trials grew the heap past twice what 400 took.
 */
export function writeNested(value: unknown, depth: number, open: number, out: (piece: string) => void): void {
  if (open === 0 || value === null || typeof value !== "object" || typeof (value as { toJSON?: unknown }).toJSON === "function") {
    out(nested(value, depth));
    return;
  }
  const indent = "  ".repeat(depth);
  const inner = `\n${indent}  `;
  // As JSON.stringify leaves them: an array's holes and unprintable items read null, an object's are left out.
  const printable = (item: unknown) => item !== undefined && typeof item !== "function" && typeof item !== "symbol";
  if (Array.isArray(value)) {
    if (value.length === 0) return out("[]");
    for (let i = 0; i < value.length; i++) {
      out(i === 0 ? `[${inner}` : `,${inner}`);
      if (printable(value[i])) writeNested(value[i], depth + 1, open - 1, out);
      else out("null");
    }
    return out(`\n${indent}]`);
  }
  const entries = Object.entries(value).filter(([, item]) => printable(item));
  if (entries.length === 0) return out("{}");
  entries.forEach(([key, item], i) => {
    out(`${i === 0 ? "{" : ","}${inner}${JSON.stringify(key)}: `);
    writeNested(item, depth + 1, open - 1, out);
  });
  out(`\n${indent}}`);
}

/**
 * Writes `{ trials, totals, errors }` exactly as `JSON.stringify(..., null, 2)` would, one trial at a
 * time as it is read: the document is never held whole, nor are the trials.
 */
class JsonOutput {
  private trials = 0;
  private pieces: string[] = [];
  private length = 0;
  constructor(private readonly io: CliIo) {
    io.write('{\n  "trials": [');
  }
  trial(trial: Trial): void {
    this.add(this.trials++ > 0 ? ",\n    " : "\n    ");
    // The trial's fields, and the steps and tests they list, one by one.
    writeNested(trial, 2, 2, (piece) => this.add(piece));
    this.flush();
  }
  end(totals: IngestTotals, errors: IngestError[]): void {
    this.io.write(`${this.trials > 0 ? "\n  " : ""}],\n  "totals": ${nested(totals, 1)},\n  "errors": ${nested(errors, 1)}\n}\n`);
  }
  private add(piece: string): void {
    this.pieces.push(piece);
    this.length += piece.length;
    if (this.length >= PIECE) this.flush();
  }
  private flush(): void {
    if (this.pieces.length > 0) this.io.write(this.pieces.join(""));
    this.pieces = [];
    this.length = 0;
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
