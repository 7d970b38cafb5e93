import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { ChangedPaths, HarnessSnapshot, LoopContext, ProposalPR } from "../../src/loop/host.js";
import { guardBranch } from "../../src/loop/push.js";
import { nextRepeat, stageDispatchId } from "../../src/loop/stages.js";
import type { ProposalState, Stage } from "../../src/loop/state.js";
import { harnessFromFiles } from "../../src/propose/harness.js";

const PROMPT = "# System prompt\n\n- Read the task statement carefully.\n";
const SLUG = "missing-artifact-0123456789";

function context(yaml: string): LoopContext {
  const parsed = parseConfig(`harness:\n  paths: ["harness/**"]\n${yaml}`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return { config: parsed.config, llm: null, labelCache: new Map() };
}

function proposal(): ProposalPR {
  const state: ProposalState = {
    version: 1,
    weakness: "0123456789",
    slug: SLUG,
    harnessVersion: "v1",
    base: { ref: "main", sha: "base" },
    runsMined: [1],
    proposer: "playbook",
    current: { weakness: "0123456789", title: "t", rationale: "r", expected: "e", preserved: "p", risk: "r", edits: [] },
    alternatives: [],
    attempts: [],
    tasks: { targeted: ["csv-summary"], preserve: [], heldOut: [] },
  };
  return { number: 5, open: true, merged: false, title: "selfharness: t", body: "", headRef: `selfharness/${SLUG}`, headSha: "head", baseRef: "main", labels: [], state };
}

/** A host whose base holds PROMPT and whose head adds `added` to it. */
function pushed(ctx: LoopContext, added: string) {
  const snapshot = (content: string): HarnessSnapshot => ({
    sha: "x",
    harness: harnessFromFiles([{ path: "harness/prompt.md", content }], ctx.config.harness),
    paths: new Set(["harness/prompt.md"]),
  });
  return {
    changedPaths: async (): Promise<ChangedPaths> => ({ ok: true, paths: ["harness/prompt.md"] }),
    readHarness: async (sha: string) => snapshot(sha === "base" ? PROMPT : `${PROMPT}${added}`),
  };
}

describe("a person's push to a proposal branch", () => {
  const addsDocs = "- The format is described at https://docs.example.com/guide.\n";

  it("is refused when it adds a URL to a host the repository did not allow", async () => {
    const ctx = context("");
    expect(await guardBranch(pushed(ctx, addsDocs), ctx, proposal())).toMatch(/new URL/);
  });

  it("is checked with the repository's own content guard settings: an allowed host passes", async () => {
    const ctx = context("propose:\n  guards:\n    allowedHosts: [docs.example.com]\n");
    expect(await guardBranch(pushed(ctx, addsDocs), ctx, proposal())).toBeNull();
  });
});

describe("nextRepeat", () => {
  const id = (repeat: number, side: "candidate" | "baseline") => stageDispatchId(SLUG, "head", 1, repeat, side);
  const stage = (candidate: string[], baseline: string[]): Stage => ({
    stage: 1,
    tasks: ["csv-summary"],
    trials: 1,
    dispatchedAt: "2026-11-30T10:00:00Z",
    candidate: candidate.map((selfharnessId) => ({ selfharnessId })),
    baseline: baseline.map((selfharnessId, i) => ({ selfharnessId, runId: 7 + i })),
  });

  it("numbers a repeat after the stage's dispatches", () => {
    expect(nextRepeat(SLUG, "head", stage([id(0, "candidate")], [id(0, "baseline")]))).toBe(1);
    expect(nextRepeat(SLUG, "head", stage([id(0, "candidate"), id(1, "candidate")], [id(0, "baseline"), id(1, "baseline")]))).toBe(2);
  });

  it("never gives a kept run's id to a new dispatch when a gone one left the record", () => {
    // The candidate run of the first dispatch is gone; its baseline (run 7) is kept.
    const repeat = nextRepeat(SLUG, "head", stage([], [id(0, "baseline")]));
    expect(repeat).toBe(1);
    expect(stageDispatchId(SLUG, "head", 1, repeat, "baseline")).not.toBe(id(0, "baseline"));
  });
});
