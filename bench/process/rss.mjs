// Preloaded into a measured process (`node --import ./bench/process/rss.mjs ...`): writes the
// process's peak resident set size, in KiB, to BENCH_RSS_FILE when it exits.
/* global process */
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_RSS_FILE;
if (file) process.on("exit", () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
