import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { SignalKind } from "../../src/mine/types.js";
import { applyProposal, guardProposal } from "../../src/propose/edit.js";
import { playbookMechanisms, playbookProposals, preferredSurface } from "../../src/propose/playbook.js";
import { config, sampleHarness, SYSTEM_PROMPT, weakness } from "./helpers.js";

/** Every signal kind the miner emits; each one that names an agent behaviour has a remedy. */
const ALL_KINDS: SignalKind[] = [
  "repeated-failing-command",
  "stalled-loop",
  "missing-artifact",
  "late-or-no-write",
  "unverified-completion",
  "tool-error-then-stop",
  "env-lost",
  "missing-dependency",
  "interactive-hang",
  "format-error",
  "timeout",
  "context-overflow",
];

const forbidden = ["csv-column-stats", "ini-to-yaml", "log-error-count", "test_stats_file_exists", "/app/output/stats.json"];
const guard = (harness: ReturnType<typeof sampleHarness>) => ({ harness, harnessPaths: ["harness/**", "AGENTS.md"], budget: config().propose.budget, contentGuards: config().propose.guards, forbidden });

describe("playbookProposals", () => {
  it("has a remedy for every signal kind", () => {
    expect([...playbookMechanisms()].sort()).toEqual([...ALL_KINDS].sort());
  });

  it.each(ALL_KINDS)("yields a guarded edit of the system prompt for %s", (kind) => {
    const harness = sampleHarness({ "harness/system_prompt.md": SYSTEM_PROMPT });
    const proposals = playbookProposals(weakness(kind), harness);
    expect(proposals.length).toBeGreaterThan(0);
    for (const proposal of proposals) {
      const result = guardProposal(proposal, guard(harness));
      expect(result, `${kind}: ${proposal.title}`).toMatchObject({ ok: true });
      expect(proposal.rationale).toContain("offline playbook");
      expect(proposal.weakness).toBe(`w-${kind}`);
    }
    const [primary] = applyProposal(harness, proposals[0]!);
    expect(primary!.path).toBe("harness/system_prompt.md");
    expect(primary!.content.startsWith(SYSTEM_PROMPT)).toBe(true);
    expect(primary!.content).toContain(`## ${proposals[0]!.title}\n\n- `);
  });

  it.each(["env-lost", "interactive-hang"] as const)("puts %s into the shell tool's description when a YAML tools surface exists", (kind) => {
    const harness = sampleHarness();
    const proposals = playbookProposals(weakness(kind), harness);
    expect(proposals[0]!.edits[0]!.path).toBe("harness/tools.yaml");
    expect(preferredSurface(kind, harness)).toBe("harness/tools.yaml");
    for (const proposal of proposals) expect(guardProposal(proposal, guard(harness)).ok).toBe(true);
    const [tools] = applyProposal(harness, proposals[0]!);
    const parsed = parseYaml(tools!.content) as { tools: { name: string; description: string }[] };
    expect(parsed.tools[0]!.description).toMatch(/Commands run non-interactively\.\n.*(fresh shell|wait for input)/);
    expect(parsed.tools[1]!.description).toBe("Declare the task finished.");
    // The second candidate is the system prompt section, so a retry has somewhere else to go.
    expect(proposals[1]!.edits[0]!.path).toBe("harness/system_prompt.md");
  });

  it("appends to a quoted description or a list of rules in YAML", () => {
    const quoted = sampleHarness({
      "harness/system_prompt.md": SYSTEM_PROMPT,
      "harness/tools.yaml": 'tools:\n  - name: run_shell\n    description: "Run a command."\n',
    });
    const [tools] = applyProposal(quoted, playbookProposals(weakness("env-lost"), quoted)[0]!);
    expect((parseYaml(tools!.content) as { tools: { description: string }[] }).tools[0]!.description).toMatch(/^Run a command\. Each call runs in a fresh shell/);

    const rules = sampleHarness({ "harness/system_prompt.md": SYSTEM_PROMPT, "harness/tools.yaml": "rules:\n  - Be brief.\n  - Use absolute paths.\n" });
    const [rulesFile] = applyProposal(rules, playbookProposals(weakness("interactive-hang"), rules)[0]!);
    expect((parseYaml(rulesFile!.content) as { rules: string[] }).rules).toHaveLength(3);
  });

  it("writes into a YAML system prompt block without breaking it", () => {
    const config = "model: qwen\nsystem_prompt: |\n  You are an agent.\n  Work carefully.\nmax_turns: 30\n";
    const harness = sampleHarness({ "harness/agent.yaml": config });
    const yamlPrompt = { ...harness, surfaces: { system_prompt: "harness/agent.yaml" } };
    const proposals = playbookProposals(weakness("unverified-completion"), yamlPrompt);
    expect(guardProposal(proposals[0]!, guard(yamlPrompt)).ok).toBe(true);
    const [file] = applyProposal(yamlPrompt, proposals[0]!);
    const parsed = parseYaml(file!.content) as { system_prompt: string; max_turns: number };
    expect(parsed.system_prompt).toMatch(/^You are an agent\.\nWork carefully\.\nBefore declaring the task complete/);
    expect(parsed.max_turns).toBe(30);
  });

  it("offers nothing twice: a remedy already in the prompt is not proposed again", () => {
    const harness = sampleHarness({ "harness/system_prompt.md": `${SYSTEM_PROMPT}\n## Check the result before declaring completion\n\n- Run the tests.\n` });
    expect(playbookProposals(weakness("unverified-completion"), harness)).toEqual([]);
  });

  it("offers nothing for an unknown mechanism or a harness without a prompt", () => {
    expect(playbookProposals(weakness("model-label:odd"), sampleHarness())).toEqual([]);
    expect(playbookProposals(weakness("missing-artifact"), sampleHarness({ "harness/run.sh": "#!/bin/sh\n" }))).toEqual([]);
  });

  it("uses the verification surface for a compact alternative", () => {
    const harness = {
      ...sampleHarness({ "harness/system_prompt.md": SYSTEM_PROMPT, "harness/checklist.md": "# Before finishing\n\n- Re-read the task.\n" }),
      surfaces: { system_prompt: "harness/system_prompt.md", verification: "harness/checklist.md" },
    };
    const proposals = playbookProposals(weakness("unverified-completion"), harness);
    expect(proposals.map((p) => p.edits[0]!.path)).toEqual(["harness/system_prompt.md", "harness/checklist.md", "harness/system_prompt.md"]);
    expect(proposals.map((p) => p.rationale.match(/goes into (.*)\.$/)?.[1])).toEqual([
      "a section of the system prompt harness/system_prompt.md",
      "the verification rules in harness/checklist.md",
      "one compact rule in the system prompt harness/system_prompt.md",
    ]);
  });
});
