/**
 * `npm run bench`: runs every section in its own process, prints one table and writes
 * bench/results.json. Machines are shared and noisy: read ratios within one run, not absolute times.
 */
import { spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Figure } from "./lib.js";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const sections = readdirSync(join(here, "sections"))
  .filter((f) => f.endsWith(".ts"))
  .sort()
  .filter((f) => only.length === 0 || only.some((name) => f.startsWith(name)));

function runSection(file: string): Promise<Figure[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "sections", file)], { stdio: ["ignore", "pipe", "inherit"] });
    const figures: Figure[] = [];
    let buffer = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.startsWith("BENCH ")) figures.push(JSON.parse(line.slice(6)) as Figure);
        else if (line.trim()) process.stderr.write(`[${file}] ${line}\n`);
      }
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(figures) : reject(new Error(`bench section ${file} exited with ${code}`))));
  });
}

function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

const all: Figure[] = [];
for (const file of sections) {
  process.stderr.write(`bench: ${file} ...\n`);
  all.push(...(await runSection(file)));
}
console.log(`${process.version}, ${availableParallelism()} cores`);
const rows = all.map((f) => [f.section, f.figure, `${formatValue(f.value)} ${f.unit}`, f.corpus + (f.seed !== undefined ? ` (seed ${f.seed})` : ""), f.note ?? ""]);
const header = ["section", "figure", "value", "corpus", "note"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of rows) console.log(line(row));
writeFileSync(join(here, "results.json"), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: availableParallelism(), figures: all }, null, 2)}\n`);
console.log(`\nwrote ${join("bench", "results.json")}`);
