// The read floor: reads every file listed in the manifest (the files an ingest opened), decodes it
// as text and parses the JSON ones, with the same bounded concurrency the readers use. What any
// reader of these files must at least spend; `npm run bench` compares the CLI against it.
/* global process */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

const files = readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean);
const concurrency = Number(process.argv[3] ?? 4);
let next = 0;
let bytes = 0;
async function worker() {
  while (next < files.length) {
    const file = files[next++];
    const text = await readFile(file, "utf8");
    bytes += text.length;
    if (file.endsWith(".json")) JSON.parse(text);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
process.stdout.write(`${files.length} files, ${bytes} chars\n`);
