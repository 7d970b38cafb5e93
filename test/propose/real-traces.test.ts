import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildEvidence, mineWeaknesses } from "../../src/mine/index.js";
import { applyProposal, buildProposalPrompt, forbiddenNames, guardProposal, propose } from "../../src/propose/index.js";
import { readTrials } from "../../src/traces/index.js";
import { config, repoRoot, sampleHarness } from "./helpers.js";

const tb1 = path.resolve(repoRoot, "../shared/real-traces/tb1-leaderboard");
const harbor = path.resolve(repoRoot, "../shared/real-traces/skillsbench-harbor");
const present = existsSync(tb1) && existsSync(harbor);
if (!present) console.warn(`skipping real-trace proposal tests: ${tb1} or ${harbor} is absent`);

describe.skipIf(!present)("proposing for the real Terminal-Bench 1 and Harbor samples", async () => {
  const { trials } = present ? await readTrials([tb1, harbor]) : { trials: [] };
  // The fix-git failures are wrong solutions that no detector explains; the Harbor sample's recurring
  // mechanism is an unchecked claim of completion (pddl-tpp-planning, sales-pivot-analysis).
  const weakness = mineWeaknesses(trials).weaknesses.find((w) => w.signature.mechanism === "unverified-completion");
  const forbidden = forbiddenNames(trials);
  const harness = sampleHarness();
  const settings = config({ harness: { paths: ["harness/**"], surfaces: { system_prompt: "harness/system_prompt.md", tools: "harness/tools.yaml" } } });

  it("forbids the real task and test names, and no word of a verifier message", () => {
    expect(forbidden).toEqual(expect.arrayContaining(["fix-git", "test_about_file", "extract-safely", "hello-world", "pddl-tpp-planning", "test_allclose"]));
    for (const word of ["Bucket", "public", "running", "service", "state"]) expect(forbidden).not.toContain(word);
  });

  it("proposes a guarded playbook edit for the recurring mechanism, naming no task or test", async () => {
    expect(weakness).toBeDefined();
    const evidence = buildEvidence(weakness!, trials, { tokenBudget: 6000 });
    const result = await propose({ weakness: weakness!, evidence, harness, config: settings, forbidden, earlier: [], llm: null });
    expect(result.proposer).toBe("playbook");
    expect(result.proposals.length).toBeGreaterThan(0);
    for (const proposal of result.proposals) {
      const [file] = applyProposal(harness, proposal);
      expect(file!.content).not.toMatch(/pddl-tpp-planning|sales-pivot-analysis|test_allclose/i);
    }
    const prompt = buildProposalPrompt({ weakness: weakness!, evidence, harness, budget: settings.propose.budget, candidates: 3, earlier: [] });
    expect(prompt.user).toContain("test_allclose"); // the model sees the evidence ...
    const leaking = { ...result.proposals[0]!, edits: [{ path: "harness/system_prompt.md", before: "", after: "- In pddl-tpp-planning, run the validator.\n" }] };
    expect(guardProposal(leaking, { harness, harnessPaths: ["harness/**"], budget: settings.propose.budget, contentGuards: settings.propose.guards, forbidden })).toEqual({
      ok: false,
      reason: 'leaks a benchmark detail: adds "pddl-tpp-planning" to harness/system_prompt.md',
    }); // ... but cannot write it into the harness
  });
});
