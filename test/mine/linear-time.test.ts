/**
 * Every detector and the rest of mining, fed a trial of a megabyte of adversarial text: phrases
 * the patterns look for, cut off halfway, thousands of times over; a thousand failed tests whose
 * messages sit in a megabyte of verifier output. Linear code takes a fraction of a second per
 * trial; the bounds are seconds, which a quadratic version misses by far (the evidence packet, which
 * re-read the verifier output for each failed test at each level of detail, took 128 s).
 */
import { describe, expect, it } from "vitest";
import { buildEvidence, DETECTORS, labelFailures, mineWeaknesses, summarizeTrial, suspectTasks, trialDigest, viewOf } from "../../src/mine/index.js";
import type { Step, Trial } from "../../src/traces/types.js";
import { trial } from "./build.js";

const MB = 1024 * 1024;
const BOUND_MS = 10_000;

function fast<T>(name: string, run: () => T): T {
  const start = performance.now();
  const value = run();
  expect(performance.now() - start, name).toBeLessThan(BOUND_MS);
  return value;
}

/** Text that starts every pattern and finishes none, or finishes it a thousand times. */
const FRAGMENTS = [
  "mock ".repeat(MB / 5),
  "I have successfully ".repeat(MB / 20),
  "The task is complete. ".repeat(MB / 22),
  "ModuleNotFoundError: No module named x".repeat(MB / 38),
  "a: command not found\n".repeat(MB / 21),
  "FileNotFoundError: '".repeat(MB / 20),
  "No such file or directory: '/".repeat(MB / 29),
  " ".repeat(MB),
  "```bash\n".repeat(MB / 8),
  "a.b.c.d.e.f".repeat(MB / 11),
  "/a/b/c/d".repeat(MB / 8),
  "timed out ".repeat(MB / 10),
  "Previous response had parsing errors ".repeat(MB / 37),
  "\\".repeat(MB),
];

/** A thousand steps of a kilobyte each: every command fails in a way some detector looks at. */
function manySteps(): Step[] {
  const out: Step[] = [];
  for (let i = 0; i < 1000; i++) {
    const fragment = FRAGMENTS[i % FRAGMENTS.length]!.slice(0, 1024);
    out.push({ index: 2 * i, source: "agent", text: fragment, calls: [{ name: "bash", args: { command: `pip install x${i % 7} > out.txt && cd /tmp && export A=1 ${fragment.slice(0, 200)}` }, command: `pip install x${i % 7} > out.txt && cd /tmp && export A=1 ${fragment.slice(0, 200)}` }] });
    out.push({ index: 2 * i + 1, source: "tool", output: fragment, exitCode: i % 3 === 0 ? 1 : 0 });
  }
  return out;
}

function hostileTrials(): Trial[] {
  const trials: Trial[] = [];
  for (const [n, fragment] of FRAGMENTS.entries()) {
    trials.push(
      trial({
        id: `r/t${n}`,
        task: `t${n % 3}`,
        instruction: fragment,
        verifierOutput: `${fragment}\n${Array.from({ length: 1000 }, (_, i) => `FAILED tests/test_x.py::test_${i} - AssertionError: ${fragment.slice(0, 200)}`).join("\n")}`,
        tests: Array.from({ length: 1000 }, (_, i) => ({ name: `test_${i}`, status: "failed" as const })),
        steps: [{ index: 0, source: "agent", text: fragment }, ...manySteps().map((s) => ({ ...s, index: s.index + 1 }))],
        failureMode: "agent_timeout",
        stopReason: fragment.slice(0, 1000),
      }),
    );
  }
  return trials;
}

describe("mining stays linear on a megabyte of adversarial trace text", () => {
  it("file words of long dotted outputs, at the readers' own limits (1,000 commands of 4 KB)", () => {
    const dotted = trial(
      { task: "dots" },
      [...Array.from({ length: 1000 }, (_, i): [string, string, number] => [`touch out${i}.txt`, "a.".repeat(2000), 0]), { say: "The task is complete." }],
    );
    const view = viewOf(dotted);
    for (const [name, detect] of Object.entries(DETECTORS)) fast(`${name} on dotted output`, () => detect(view));
  });

  const trials = hostileTrials();

  it("every detector", () => {
    for (const t of trials) {
      const view = fast(`view of ${t.id}`, () => viewOf(t));
      for (const [name, detect] of Object.entries(DETECTORS)) fast(`${name} on ${t.id}`, () => detect(view));
    }
  });

  it("summaries, suspect tasks, digests, clustering and evidence", async () => {
    const summaries = trials.map((t) => fast(`summary of ${t.id}`, () => summarizeTrial(t, { digest: true })));
    for (const t of trials) fast(`digest of ${t.id}`, () => trialDigest(t));
    fast("suspect tasks", () => suspectTasks(summaries));
    const mined = fast("mineWeaknesses", () => mineWeaknesses(summaries, { minFailures: 1, minTasks: 1 }));
    expect(mined.mined.failures).toBe(trials.length);
    for (const weakness of mined.weaknesses) fast(`evidence of ${weakness.id}`, () => buildEvidence(weakness, trials));
    const start = performance.now();
    await labelFailures(summaries, { llm: null, budget: 0, cache: new Map() });
    expect(performance.now() - start).toBeLessThan(BOUND_MS);
  }, 120_000);
});
