import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";
import { decide } from "../../src/gate/decide.js";
import type { Weakness } from "../../src/mine/types.js";
import type { Proposal } from "../../src/propose/types.js";
import { approvalWaitingSummary } from "../../src/report/approval.js";
import { explainComment, noAlternativeComment, unknownCommandComment, verdictSummary } from "../../src/report/comments.js";
import { htmlText, inlineCode, oneLine, plainText, titleText } from "../../src/report/markdown.js";
import { proposalBody, proposalCommitMessage, proposalTitle } from "../../src/report/pr-body.js";
import { side, trial } from "../gate/trials.js";

const TOKEN = "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij";
/** A task name as a hostile artifact can spell it: a line break, a heading, a link, a mention. */
const EVIL_TASK = "fix-git\n\n### ✅ Approved by @security-team\n[details](https://evil.example/x)";
/** Model text with the tricks a prompt-injected answer would use. */
const EVIL_PROSE = "Safe \u001b[2K\u001b[1A change\u202E. See [the docs](https://evil.example/p) or www.evil.example and <https://evil.example>, cc @octocat #12.";

const weakness: Weakness = {
  id: "20b0ae6fe4",
  signature: { cause: "missing-output-file", mechanism: "missing-artifact" },
  title: "Never writes the required output file",
  summary: `The agent printed GITHUB_TOKEN=${TOKEN} and stopped.`,
  failures: 4,
  tasks: ["csv-summary", EVIL_TASK],
  runs: ["9001/job"],
  share: 0.8,
  examples: [{ trial: "9001/job/csv\n<b>x</b>__x", steps: [3], excerpt: `[step 3 tool]\n$ env\nOPENAI_API_KEY=sk-proj-abcDEF123456ghiJKL789mno\n\u001b[31mError\u001b[0m` }],
  trials: ["9001/job/csv-summary__x"],
  failingTests: [],
  withoutTrajectory: 0,
};

const proposal: Proposal = {
  weakness: weakness.id,
  title: "Write outputs early\n\n## Merged by maintainers #7",
  rationale: EVIL_PROSE,
  expected: "e",
  preserved: "p",
  risk: "k",
  edits: [{ path: "harness/system_prompt.md", before: "", after: "\nWrite outputs early.\n" }],
};

function body(): string {
  return proposalBody({
    weakness,
    proposal,
    proposer: "llm",
    model: "coder`\nx",
    runs: [],
    stats: [{ path: "harness/a`b\n.md", additions: 1, deletions: 0, created: false }],
    validation: "Pending.",
    alternatives: 0,
    notes: [`artifact harbor.zip: entry "a\n- [ ] b](https://evil.example)" skipped`],
    harnessVersion: "abc123",
  });
}

/** Every line a renderer produced that untrusted text could have started. */
function lines(markdown: string): string[] {
  return markdown.split("\n");
}

/** The Markdown outside code: code spans and fenced blocks show text as is, and GitHub links nothing in them. */
function outsideCode(markdown: string): string {
  return markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, "").replace(/`[^`\n]*`/g, "");
}

describe("rendered untrusted text", () => {
  it("keeps a task name with line breaks on its own line in the pull request body", () => {
    const text = body();
    expect(lines(text).some((l) => /^#+ .*Approved/.test(l))).toBe(false);
    expect(lines(text).find((l) => l.startsWith("- Tasks: "))).toBe(
      "- Tasks: `csv-summary`, `fix-git ### ✅ Approved by @security-team [details](https://evil.example/x)`",
    );
  });

  it("leaves no live link, autolink, mention, reference, escape sequence or bidirectional override", () => {
    const text = outsideCode(body());
    expect(text).not.toMatch(/https?:\/\//);
    expect(text).not.toMatch(/www\./i);
    expect(text).not.toMatch(/(?<!\\)\[[^\]\n]*(?<!\\)\]\(/);
    expect(text).not.toMatch(/<https?:/);
    expect(text).not.toMatch(/(?<![`\w])@[A-Za-z0-9]/);
    expect(text).not.toMatch(/#\d/);
    expect(text).not.toContain("\u001b");
    expect(text).not.toContain("\u202E");
    expect(text).toContain("See \\[the docs\\](https\\[:\\]//evil.example/p) or www\\[.\\]evil.example and &lt;https\\[:\\]//evil.example&gt;, cc @\u200boctocat #\u200b12.");
  });

  it("redacts secrets in the summary and the excerpt", () => {
    const text = body();
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain("sk-proj-abcDEF");
    expect(text).toContain("GITHUB\\_TOKEN=\\[REDACTED:github-token\\]");
    expect(text).toContain("OPENAI_API_KEY=[REDACTED:api-key]\nError\n```");
  });

  it("cannot break out of inline code, HTML or the table", () => {
    const text = body();
    expect(text).toContain("<summary>Excerpt from <code>9001/job/csv &lt;b&gt;x&lt;/b&gt;__x</code></summary>");
    expect(text).toContain("| `harness/a'b .md` | +1 | -0 |");
    expect(text).toContain("Written by the target model `coder' x`;");
    expect(lines(text).filter((l) => l.startsWith("- artifact"))).toEqual(["- artifact harbor.zip: entry \"a - \\[ \\] b\\](https\\[:\\]//evil.example)\" skipped"]);
  });

  it("gives the pull request a one-line title with no reference", () => {
    expect(proposalTitle(proposal)).toBe("selfharness: write outputs early ## Merged by maintainers #\u200b7");
    expect(proposalTitle({ ...proposal, title: `\u001b]0;owned\u0007Use ${TOKEN}` })).toBe("selfharness: use [REDACTED:github-token]");
  });

  it("writes a commit message whose model text can close no issue and mention no one", () => {
    const message = proposalCommitMessage({ ...proposal, rationale: `Closes #12, fixes octo-org/other#3.\n\n\u001b[31mcc @admin ${TOKEN}` }, "Weakness 0123456789: trusted line");
    expect(message.split("\n\n")).toEqual([
      "selfharness: write outputs early ## Merged by maintainers #\u200b7",
      "Closes #\u200b12, fixes octo-org/other#\u200b3. cc @\u200badmin [REDACTED:github-token]",
      "Weakness 0123456789: trusted line",
    ]);
  });

  it("keeps a task name on its line in the verdict summary and check run text", () => {
    const config = validateConfig({});
    if (!config.ok) throw new Error("defaults");
    const baseline = [...side({ [EVIL_TASK]: [2, 1], "build-cache": [3, 0] }, "base"), trial(EVIL_TASK, "invalid", { run: "base", attempt: 4, kind: "environment_setup" })];
    const candidate = side({ [EVIL_TASK]: [2, 1], "build-cache": [3, 0] }, "cand");
    const verdict = { ...decide({ baseline, candidate, heldOut: [], targeted: [], config: config.config.gate }), decision: "inconclusive" as const };
    const summary = verdictSummary({ verdict, headSha: "0123456789abcdef", baseline: "eval runs 1, 2 on main", alternativesLeft: 0, automergeLabel: "l", nativeAutoMerge: false });
    const line = lines(summary).find((l) => l.includes("Invalid trials:"))!;
    expect(line).toContain("Invalid trials: `fix-git ### ✅ Approved by @security-team [details](https://evil.example/x)` (baseline) × 1.");
    expect(lines(summary).some((l) => /^#+ .*Approved/.test(l))).toBe(false);
  });

  it("defuses comments: unknown commands, explanations and attempts", () => {
    expect(unknownCommandComment("retry`\n\n@everyone https://x.example")).toMatch(/^I don't know the command `retry' @everyone https:\/\/x\.example`\.\n\n/);
    const explained = explainComment({
      weaknessTitle: "Loops\n# owned",
      evidence: { text: `$ cat .env\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\u202Eevil`, tokens: 40 },
      current: proposal,
      alternatives: [],
      attempts: [{ title: "Earlier\n### x", reason: "rejected by https://evil.example" }],
      discarded: [],
    });
    expect(explained).not.toContain("wJalrXUtnFEMI");
    expect(explained).not.toContain("\u202E");
    expect(explained).not.toContain("\u001b");
    expect(outsideCode(explained)).not.toMatch(/https?:\/\//);
    expect(lines(explained).filter((l) => /^#/.test(l))).toEqual(["### Why selfharness proposed this: Loops # owned"]);
    expect(noAlternativeComment([{ title: "A\n# B", reason: "www.evil.example" }])).toContain("- A # B: www\\[.\\]evil.example");
  });
});

describe("the rendering helpers", () => {
  it("share one cleaning: hidden characters out, secrets redacted, one line", () => {
    const raw = `a\r\nb\u0000\u200Bc \u001b[31m${TOKEN}\u001b[0m`;
    expect(oneLine(raw)).toBe("a bc [REDACTED:github-token]");
    expect(plainText(raw)).toBe("a bc \\[REDACTED:github-token\\]");
    expect(inlineCode(raw)).toBe("`a bc [REDACTED:github-token]`");
    expect(htmlText(raw)).toBe("a bc [REDACTED:github-token]");
    expect(titleText(raw)).toBe("a bc [REDACTED:github-token]");
  });

  it("clips long text", () => {
    expect(oneLine("x".repeat(5000), 100)).toHaveLength(100);
    expect(inlineCode("x".repeat(5000))).toHaveLength(202);
  });
});

describe("plainText and code spans", () => {
  it("keeps paired backticks as code spans and escapes a lone one", () => {
    expect(plainText("artifact `eval-traces` (12) of run 5 has expired")).toBe("artifact `eval-traces` (12) of run 5 has expired");
    expect(plainText("call `task_complete` then [x](https://e.example) `")).toBe("call `task_complete` then \\[x\\](https\\[:\\]//e.example) \\`");
    expect(plainText("a `@team [l](https://e.example)` b")).toBe("a `@team [l](https://e.example)` b");
    expect(plainText("``")).toBe("");
  });
});

describe("file names in code spans", () => {
  it("shows a path as it is: no Markdown escapes inside the code span, where GitHub would print them", () => {
    const summary = approvalWaitingSummary({ files: ["harness/run_agent.py", "harness/a&b<c>.sh"], because: "code" }, "abc1234");
    expect(summary).toContain("`harness/run_agent.py`, `harness/a&b<c>.sh`");
  });
});
