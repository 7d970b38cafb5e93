import { cp, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { inOrder } from "../../src/traces/concurrency.js";
import { readTrials } from "../../src/traces/index.js";
import { fixtures } from "./paths.js";
import { useWorkDir } from "./work-dir.js";

const tick = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe("inOrder", () => {
  it("keeps the items' order when later items finish first, and never runs more than the limit at once", async () => {
    let running = 0;
    let most = 0;
    const delays = [40, 5, 30, 1, 20, 2, 10];
    const out: number[] = [];
    for await (const value of inOrder(delays.entries(), 3, async ([index, ms]) => {
      running += 1;
      most = Math.max(most, running);
      await tick(ms);
      running -= 1;
      return index;
    })) out.push(value);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
  });

  it("surfaces a rejection in its turn, after the results before it", async () => {
    const out: number[] = [];
    const run = async () => {
      for await (const value of inOrder([1, 2, 3, 4], 4, async (n) => {
        if (n === 3) throw new Error("third failed");
        await tick(5);
        return n;
      })) out.push(value);
    };
    await expect(run()).rejects.toThrow("third failed");
    expect(out).toEqual([1, 2]);
  });
});

describe("Terminal-Bench 1 trials read a few at a time", () => {
  const work = useWorkDir("selfharness-read-ahead-");

  it("rebuilds a trial whose own results.json is broken from the run's entry, in the folder order", async () => {
    const run = join(work(), "run");
    await cp(resolve(fixtures, "tb1/results/example-bench@0.2.0/2026-02-10__09-00-00"), run, { recursive: true });
    const whole = await readTrials([run]);
    await writeFile(join(run, "count-lines/count-lines.1-of-1.2026-02-10__09-00-00/results.json"), '{"is_resolved": ');
    const { trials, errors } = await readTrials([run]);
    expect(trials.map((t) => [t.id, t.outcome])).toEqual(whole.trials.map((t) => [t.id, t.outcome]));
    expect(trials[0]).toMatchObject({ task: "count-lines", outcome: "pass" });
    expect(errors.map((e) => [e.path.slice(run.length + 1), e.message.split(":")[0]])).toEqual([
      ["count-lines/count-lines.1-of-1.2026-02-10__09-00-00/results.json", "malformed JSON"],
    ]);
  });
});
