import { z } from "zod";
import { INPUT_FORMATS } from "../traces/formats.js";
import { CONFIG_DEFAULTS as D } from "./defaults.js";

/** Every conclusion GitHub gives a completed workflow run. */
export const RUN_CONCLUSIONS = ["success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required", "stale", "startup_failure"] as const;

/** Most preserve tasks, and most held-out tasks, one regression run may sample. */
const MAX_REGRESSION_SAMPLE = 500;

/**
 * `.github/selfharness.yml`. Every key has a default (defaults.ts), so an empty file is a valid
 * configuration; docs/configuration.md documents each key and must stay in step with this schema.
 */
const budget = z
  .object({
    maxFiles: z.number().int().min(1).default(D.propose.budget.maxFiles),
    maxChangedLines: z.number().int().min(1).default(D.propose.budget.maxChangedLines),
    maxAddedChars: z.number().int().min(1).default(D.propose.budget.maxAddedChars),
  })
  .strict();

/** Content guards on every edit (see src/propose/content.ts): strict unless a repository says otherwise. */
const offBecause = z.string().trim().min(8, "say why this content guard is off (at least 8 characters)").optional();
const guards = z
  .object({
    allowedHosts: z.array(z.string().regex(/^(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/, "a host name, or *.domain for its subdomains")).default(() => [...D.propose.guards.allowedHosts]),
    disabled: z
      .object({ hosts: offBecause, shellPipes: offBecause, secretReads: offBecause, encodedBlobs: offBecause, invisibleUnicode: offBecause })
      .strict()
      .prefault({}),
  })
  .strict();

const surfaces = z
  .object({
    system_prompt: z.string().optional(),
    tools: z.string().optional(),
    verification: z.string().optional(),
    recovery: z.string().optional(),
    runtime: z.string().optional(),
  })
  .strict();

export const configSchema = z
  .object({
    eval: z
      .object({
        /** Workflow file name (`eval.yml`) or display name of the evaluation workflow. */
        workflow: z.string().min(1).default(D.eval.workflow),
        /** Glob on artifact names that hold traces. */
        artifacts: z.string().min(1).default(D.eval.artifacts),
        format: z.enum(INPUT_FORMATS).default(D.eval.format),
        /** How many recent completed eval runs on the same harness version to mine. */
        runs: z.number().int().min(1).max(50).default(D.eval.runs),
        /**
         * Run conclusions that start mining. Harbor exits 0 however many trials fail, so a successful
         * run is the usual case; whether there is work is decided from the traces.
         */
        conclusions: z.array(z.enum(RUN_CONCLUSIONS)).min(1).default(() => [...D.eval.conclusions]),
        maxArtifactBytes: z.number().int().min(1).default(D.eval.maxArtifactBytes),
      })
      .strict()
      .prefault({}),
    harness: z
      .object({
        paths: z.array(z.string().min(1)).min(1).default(() => [...D.harness.paths]),
        surfaces: surfaces.prefault({}),
      })
      .strict()
      .prefault({}),
    mine: z
      .object({
        minFailures: z.number().int().min(1).default(D.mine.minFailures),
        minTasks: z.number().int().min(1).default(D.mine.minTasks),
        /** Model calls allowed for labelling failures that no detector explains (0 = off). */
        labelBudget: z.number().int().min(0).default(D.mine.labelBudget),
        evidenceTokens: z.number().int().min(500).default(D.mine.evidenceTokens),
      })
      .strict()
      .prefault({}),
    propose: z
      .object({
        /** Model name on the OpenAI-compatible endpoint (OPENAI_BASE_URL); none = playbook only. */
        model: z.string().min(1).optional(),
        candidates: z.number().int().min(1).max(10).default(D.propose.candidates),
        /** What to do when the model gives nothing usable. */
        fallback: z.enum(["playbook", "none"]).default(D.propose.fallback),
        timeoutSeconds: z.number().int().min(1).default(D.propose.timeoutSeconds),
        budget: budget.prefault({}),
        guards: guards.prefault({}),
      })
      .strict()
      .prefault({}),
    split: z
      .object({
        /** Explicit held-out tasks, never mined or shown to the proposer. */
        heldOut: z.array(z.string().min(1)).default(() => [...D.split.heldOut]),
        /** Otherwise this share of tasks, chosen by a stable hash of the task name. */
        heldOutFraction: z.number().min(0).max(0.9).default(D.split.heldOutFraction),
      })
      .strict()
      .prefault({}),
    regression: z
      .object({
        workflow: z.string().min(1).default(D.regression.workflow),
        trials: z.number().int().min(1).max(20).default(D.regression.trials),
        /**
         * Held-in tasks the baseline passes, re-run to catch regressions. Bounded, like maxHeldOut: every
         * regression task costs trials on both sides, is listed in the proposal's state and in the
         * dispatch's inputs (which GitHub caps), and is simulated by the power plan.
         */
        preserve: z.number().int().min(0).max(MAX_REGRESSION_SAMPLE).default(D.regression.preserve),
        /** Upper bound on held-out tasks per regression run. */
        maxHeldOut: z.number().int().min(0).max(MAX_REGRESSION_SAMPLE).default(D.regression.maxHeldOut),
        /**
         * Which proposals wait for a writer's `/selfharness approve` before the regression workflow
         * (which has the repository's secrets) runs them: `code` = any edit of a file that is not prose.
         */
        approval: z.enum(["code", "always", "never"]).default(D.regression.approval),
      })
      .strict()
      .prefault({}),
    gate: z
      .object({
        rule: z.enum(["statistical", "paper"]).default(D.gate.rule),
        /** Largest chance of accepting an edit that changes nothing. */
        alpha: z.number().gt(0).lt(0.5).default(D.gate.alpha),
        margin: z.number().min(0).max(1).default(D.gate.margin),
        /** Smallest gain in pass rate worth merging: what the power plan aims at, and what a final reject rules out. */
        minEffect: z.number().gt(0).max(1).default(D.gate.minEffect),
        /** Chance of accepting a gain of `minEffect` that the power plan aims at. */
        power: z.number().gt(0).lt(1).default(D.gate.power),
        maxInvalidTaskShare: z.number().min(0).max(1).default(D.gate.maxInvalidTaskShare),
        seed: z.number().int().default(D.gate.seed),
        sequential: z
          .object({
            enabled: z.boolean().default(D.gate.sequential.enabled),
            /** Trials per task and side in each stage: stage 1 runs every task, later stages the undecided ones. */
            stages: z.array(z.number().int().min(1).max(20)).min(1).max(10).default(() => [...D.gate.sequential.stages]),
            /** Most task-trials a validation may spend, both sides counted, per regression task. */
            budget: z.number().min(2).max(100).default(D.gate.sequential.budget),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    watch: z
      .object({
        /** After a proposal merges, compare the eval runs on the merged harness with the runs before it. */
        enabled: z.boolean().default(D.watch.enabled),
        /** Most eval runs on the merged harness the watch waits for before it reports what it has. */
        runs: z.number().int().min(1).max(20).default(D.watch.runs),
        /** Open a revert pull request (never merged automatically) when the evidence says the merge made things worse. */
        revert: z.boolean().default(D.watch.revert),
      })
      .strict()
      .prefault({}),
    labels: z
      .object({
        extra: z.array(z.string().min(1)).default(() => [...D.labels.extra]),
        automerge: z.string().min(1).default(D.labels.automerge),
        /** Also enable GitHub's native auto-merge, pinned to the tested head commit. */
        nativeAutoMerge: z.boolean().default(D.labels.nativeAutoMerge),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        maxOpenPRs: z.number().int().min(1).default(D.limits.maxOpenPRs),
      })
      .strict()
      .prefault({}),
    dashboard: z
      .object({
        /** One issue per repository with the weaknesses, their status and why the last run proposed nothing. */
        enabled: z.boolean().default(D.dashboard.enabled),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type SelfharnessConfig = z.output<typeof configSchema>;
export type BudgetConfig = SelfharnessConfig["propose"]["budget"];
export type HarnessConfig = SelfharnessConfig["harness"];
export type GateConfig = SelfharnessConfig["gate"];
