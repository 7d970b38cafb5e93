import { describe, expect, it } from "vitest";
import { loadStages } from "../../src/loop/stages.js";
import type { Validation } from "../../src/loop/state.js";
import type { Trial } from "../../src/traces/types.js";
import { side } from "../gate/trials.js";

/** Runs by id, as the host would read them from their artifacts. */
const RUNS = new Map<number, Trial[]>([
  [11, side({ a: [0, 1], b: [1, 0], other: [1, 0] }, "cand-1")],
  [12, side({ a: [0, 1], b: [1, 0] }, "base-1")],
  [21, side({ a: [1, 0] }, "cand-1r1")],
  [22, side({ a: [0, 1] }, "base-1r1")],
  [31, side({ a: [1, 1] }, "cand-2")],
  [32, side({ a: [0, 2] }, "base-2")],
]);

const host = {
  loadTrials: async (ids: number[]) => ({ trials: ids.flatMap((id) => RUNS.get(id) ?? []), notes: ids.filter((id) => !RUNS.has(id)).map((id) => `run ${id}: gone`) }),
};

function validation(stages: Validation["stages"]): Validation {
  return { headSha: "h".repeat(40), baseRef: "main", budget: 100, stages };
}

const dispatch = (runId: number | undefined) => ({ selfharnessId: `id-${runId ?? "none"}`, ...(runId !== undefined ? { runId } : {}) });

describe("loadStages", () => {
  it("gives each dispatch of a stage a round of its own, numbered with its stage, limited to the stage's tasks", async () => {
    const loaded = await loadStages(
      host,
      validation([
        { stage: 1, tasks: ["a", "b"], trials: 1, dispatchedAt: "t", candidate: [dispatch(11), dispatch(21)], baseline: [dispatch(12), dispatch(22)] },
        { stage: 2, tasks: ["a"], trials: 2, dispatchedAt: "t", candidate: [dispatch(31)], baseline: [dispatch(32)] },
      ]),
    );
    expect(loaded.unread).toBeNull();
    expect(loaded.stages.map((round) => round.stage)).toEqual([1, 1, 2]);
    expect(loaded.stages.map((round) => round.candidate.map((t) => t.id))).toEqual([["cand-1/a__1", "cand-1/b__1"], ["cand-1r1/a__1"], ["cand-2/a__1", "cand-2/a__2"]]);
    expect(loaded.stages[1]!.baseline.map((t) => t.id)).toEqual(["base-1r1/a__1"]);
  });

  it("names a stage whose side left no trial in any round, and keeps a round whose runs are gone as an empty one", async () => {
    const gone = await loadStages(host, validation([{ stage: 1, tasks: ["a"], trials: 1, dispatchedAt: "t", candidate: [dispatch(90), dispatch(21)], baseline: [dispatch(91), dispatch(22)] }]));
    expect(gone.unread).toBeNull();
    expect(gone.notes).toEqual(["run 90: gone", "run 91: gone"]);
    expect(gone.stages.map((round) => [round.candidate.length, round.baseline.length])).toEqual([[0, 0], [1, 1]]);

    const lost = await loadStages(host, validation([{ stage: 1, tasks: ["a"], trials: 1, dispatchedAt: "t", candidate: [dispatch(11)], baseline: [dispatch(90), dispatch(undefined)] }]));
    expect(lost.unread).toBe("The baseline side of stage 1 (run 90) left no trials of its tasks");
  });
});
