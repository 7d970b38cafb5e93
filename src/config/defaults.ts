import type { SelfharnessConfig } from "./schema.js";

/**
 * Every default of `.github/selfharness.yml`, as plain data: the schema (schema.ts) takes its defaults
 * from here, and a command run without a configuration file takes them as they are (`defaultConfig`),
 * without loading the schema and zod (a fifth of a small run's time). Keys that have no default
 * (`propose.model`, the harness surfaces, the guards' reasons) are absent. Typed by inference, not by
 * the schema's type, which is made from these values.
 */
export const CONFIG_DEFAULTS = {
  eval: {
    workflow: "eval.yml",
    artifacts: "*",
    format: "auto" as const,
    runs: 5,
    conclusions: ["success", "failure", "timed_out", "neutral"] as ("success" | "failure" | "timed_out" | "neutral")[],
    maxArtifactBytes: 500 * 1024 * 1024,
  },
  harness: { paths: ["harness/**", "AGENTS.md"], surfaces: {} as Record<string, never> },
  mine: { minFailures: 2, minTasks: 2, labelBudget: 0, evidenceTokens: 6000 },
  propose: {
    candidates: 3,
    fallback: "playbook" as const,
    timeoutSeconds: 120,
    budget: { maxFiles: 1, maxChangedLines: 30, maxAddedChars: 3000 },
    guards: { allowedHosts: [] as string[], disabled: {} as Record<string, never> },
  },
  split: { heldOut: [] as string[], heldOutFraction: 0.3 },
  regression: { workflow: "selfharness-regression.yml", trials: 3, preserve: 5, maxHeldOut: 20, approval: "code" as const },
  gate: {
    rule: "statistical" as const,
    alpha: 0.03,
    margin: 0.05,
    minEffect: 0.1,
    power: 0.8,
    maxInvalidTaskShare: 0.1,
    seed: 1,
    sequential: { enabled: true, stages: [1, 2, 2], budget: 3.5 },
  },
  watch: { enabled: true, runs: 3, revert: true },
  labels: { extra: [] as string[], automerge: "selfharness:automerge", nativeAutoMerge: false },
  limits: { maxOpenPRs: 1 },
  dashboard: { enabled: true },
};

/** The configuration of a repository without a configuration file: a copy, so that a caller may change it. */
export function defaultConfig(): SelfharnessConfig {
  return structuredClone(CONFIG_DEFAULTS);
}
