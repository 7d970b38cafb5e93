import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { mineTrials } from "../../src/loop/mine.js";
import { failing, trial } from "../mine/build.js";

describe("mineTrials", () => {
  it("gives the event loop turns while it summarises trials held in memory (the app answers GitHub meanwhile)", async () => {
    // Trials already in memory: summarising them is promise-free work that would hold every timer
    // and socket of the process until the last one is done.
    const output = "Traceback (most recent call last):\n  File \"x.py\", line 1\nModuleNotFoundError: No module named 'pandas'\n".repeat(40);
    const trials = Array.from({ length: 3000 }, (_, i) =>
      trial({ task: `task-${i % 60}`, run: `run-${i % 3}`, attempt: 1 + Math.floor(i / 180), tests: [failing("test_output", "AssertionError: expected 3")] }, [
        ["python x.py", output, 1],
        ["python x.py", output, 1],
        ["cat /app/out.txt", "cat: /app/out.txt: No such file or directory", 1],
      ]),
    );
    let turns = 0;
    const timer = setInterval(() => turns++, 5);
    const start = performance.now();
    try {
      const mined = await mineTrials({ config: configSchema.parse({}), llm: null, labelCache: new Map() }, trials);
      expect(mined.result.weaknesses.length).toBeGreaterThan(0);
    } finally {
      clearInterval(timer);
    }
    const took = performance.now() - start;
    // Work is cut into stretches of 20 ms: at least one turn every 100 ms on average (none without them).
    expect(took).toBeGreaterThan(200);
    expect(turns).toBeGreaterThanOrEqual(Math.max(2, Math.floor(took / 100)));
  });
});
