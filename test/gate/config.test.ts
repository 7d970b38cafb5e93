import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";
import { configSchema, type SelfharnessConfig } from "../../src/config/schema.js";
import { decide } from "../../src/gate/decide.js";
import { judge } from "../../src/gate/judge.js";
import { countByTask } from "../../src/gate/outcomes.js";
import { planValidation } from "../../src/gate/plan.js";
import type { Outcome } from "../../src/traces/types.js";
import { side, trial } from "./trials.js";

/** The configuration with one key changed, checked by the schema like a real file. */
function withKey(path: string, value: unknown): SelfharnessConfig {
  const raw: Record<string, unknown> = {};
  const parts = path.split(".");
  let node = raw;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
  const result = validateConfig(raw);
  if (!result.ok) throw new Error(`${path}: ${JSON.stringify(result.problems)}`);
  return result.config;
}

const TASKS = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, "0")}`);
const one = (outcome: (i: number) => Outcome, run: string, tasks = TASKS) => tasks.map((t, i) => trial(t, outcome(i), { run }));
const history = countByTask(TASKS.flatMap((t, i) => [1, 2].map((attempt) => trial(t, i < 6 ? "pass" : "fail", { run: `eval-${attempt}`, attempt }))));

// 7 gained, 0 lost over 20 tasks, one trial a side: exact McNemar p = 1/128.
const gained = { baseline: one((i) => (i < 4 ? "pass" : "fail"), "base"), candidate: one((i) => (i < 11 ? "pass" : "fail"), "cand") };
// 4 gained, 1 lost: p = 6/32, with no stage left.
const unclear = { baseline: one((i) => (i < 4 ? "pass" : "fail"), "base"), candidate: one((i) => (i === 0 ? "fail" : i < 8 ? "pass" : "fail"), "cand") };
// Held-in loses 2 tasks of 10 entirely (3/3 → 0/3): Δ -20 pts, p = 1/400 for a loss.
const loss = {
  baseline: side(Object.fromEntries(TASKS.slice(0, 10).map((t) => [t, [3, 0] as [number, number]])), "base"),
  candidate: side(Object.fromEntries(TASKS.slice(0, 10).map((t, i) => [t, (i < 2 ? [0, 3] : [3, 0]) as [number, number]])), "cand"),
};

/**
 * For every key of `gate` (and `regression.trials`, which the gate's plan reads): a value other than the
 * default and what it changes. A key added to the schema without a row here fails the first test.
 */
const CASES: Record<string, { value: unknown; observe: (config: SelfharnessConfig) => unknown }> = {
  "gate.rule": { value: "paper", observe: (c) => decide({ ...unclear, heldOut: [], targeted: [], config: c.gate }).decision },
  "gate.alpha": { value: 0.005, observe: (c) => decide({ ...gained, heldOut: [], targeted: [], config: c.gate }).decision },
  "gate.margin": { value: 0.25, observe: (c) => decide({ ...loss, heldOut: [], targeted: [], config: c.gate }).checks.find((check) => check.rule === "held-in no loss")!.passed },
  "gate.minEffect": { value: 0.5, observe: (c) => decide({ ...unclear, heldOut: [], targeted: [], config: c.gate }).decision },
  "gate.power": { value: 0.5, observe: async (c) => (await planValidation({ tasks: TASKS, history, heldOut: [], targeted: [], config: c, simulations: 30 })).detectable.concentrated },
  "gate.maxInvalidTaskShare": {
    value: 0,
    observe: (c) => decide({ baseline: gained.baseline, candidate: [...gained.candidate.slice(1), trial(TASKS[0]!, "invalid", { run: "cand" })], heldOut: [], targeted: [], config: c.gate }).decision,
  },
  "gate.seed": { value: 7, observe: (c) => judge({ stages: [unclear], heldOut: [], targeted: [], config: { ...c.gate, sequential: { ...c.gate.sequential, budget: 2.2 } } }).next?.tasks },
  "gate.sequential": { value: { enabled: false }, observe: (c) => judge({ stages: [unclear], heldOut: [], targeted: [], config: c.gate }).design },
  "gate.sequential.enabled": { value: false, observe: (c) => judge({ stages: [unclear], heldOut: [], targeted: [], config: c.gate }).next },
  "gate.sequential.stages": { value: [1, 4], observe: (c) => judge({ stages: [unclear], heldOut: [], targeted: [], config: { ...c.gate, sequential: { ...c.gate.sequential, budget: 10 } } }).next?.trials },
  "gate.sequential.budget": { value: 5, observe: (c) => judge({ stages: [unclear], heldOut: [], targeted: [], config: c.gate }).budget.total },
  "regression.trials": { value: 5, observe: async (c) => (await planValidation({ tasks: TASKS, history, heldOut: [], targeted: [], config: { ...c, gate: { ...c.gate, rule: "paper" } } })).first.trials },
};

describe("gate configuration: no dead key", () => {
  it("has a case for every key of gate in the schema", () => {
    const gateKeys = (shape: Record<string, { _zod: { def: { innerType?: unknown; shape?: unknown } } }>, prefix: string): string[] =>
      Object.entries(shape).flatMap(([key, child]) => {
        let node = child as { _zod: { def: { innerType?: unknown; shape?: Record<string, never> } } };
        while (node._zod.def.innerType) node = node._zod.def.innerType as typeof node;
        return [`${prefix}.${key}`, ...(node._zod.def.shape ? gateKeys(node._zod.def.shape, `${prefix}.${key}`) : [])];
      });
    const gate = (configSchema.shape.gate as unknown as { _zod: { def: { innerType: { _zod: { def: { shape: Record<string, never> } } } } } })._zod.def.innerType._zod.def.shape;
    expect(gateKeys(gate, "gate").sort()).toEqual(Object.keys(CASES).filter((k) => k.startsWith("gate.")).sort());
  });

  for (const [key, { value, observe }] of Object.entries(CASES)) {
    it(`${key} changes what the gate does`, async () => {
      const defaults = validateConfig({});
      if (!defaults.ok) throw new Error("defaults must be valid");
      expect(await observe(withKey(key, value))).not.toEqual(await observe(defaults.config));
    });
  }
});
