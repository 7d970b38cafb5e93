// Preloaded into a measured process (`node --import ./bench/process/rss.mjs ...`): writes the
// process's peak resident set size in KiB, its CPU time (user and system, all threads) in
// microseconds and its page faults (minor: memory mapped afresh) to BENCH_RSS_FILE when it exits.
/* global process */
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    const usage = process.resourceUsage();
    writeFileSync(file, `${usage.maxRSS} ${usage.userCPUTime + usage.systemCPUTime} ${usage.minorPageFault}`);
  });
}
