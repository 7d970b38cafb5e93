import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyEdits, changeKey, guardProposal, normalisePath, renderDiff, selectCandidates, type GuardOptions } from "../../src/propose/edit.js";
import type { Edit, Proposal } from "../../src/propose/types.js";
import { config, sampleHarness, SYSTEM_PROMPT, TOOLS_YAML } from "./helpers.js";

const harness = sampleHarness({
  "harness/system_prompt.md": SYSTEM_PROMPT,
  "harness/tools.yaml": TOOLS_YAML,
  "harness/settings.json": '{\n  "temperature": 0.6\n}\n',
});
/** The repository's tree: the harness files, a data file too large to load, and a prompts folder. */
const existingPaths = new Set([...harness.files.map((f) => f.path), "harness/big_examples.md", "harness/prompts/extra.md", "README.md"]);
const options: GuardOptions = {
  harness,
  harnessPaths: ["harness/**", "AGENTS.md"],
  budget: config().propose.budget,
  contentGuards: config().propose.guards,
  forbidden: ["csv-column-stats", "test_outputs.py::test_stats_file_exists", "test_stats_file_exists", "/app/output/stats.json"],
  existingPaths,
};

function proposal(edits: Edit[], title = "Write outputs early"): Proposal {
  return { weakness: "w1", title, rationale: "r", expected: "e", preserved: "p", risk: "k", edits };
}

const good: Edit = {
  path: "harness/system_prompt.md",
  before: "- Explore the environment before changing anything.\n",
  after: "- Create every required output file first, then explore.\n",
};

describe("guardProposal", () => {
  it("accepts a small exact edit and measures it", () => {
    const result = guardProposal(proposal([good]), options);
    expect(result).toMatchObject({ ok: true, stats: { files: 1, changedLines: 2 } });
    if (result.ok) expect(result.changes[0]!.after).toContain("Create every required output file first");
  });

  it.each([
    ["a path outside the harness paths", { ...good, path: "src/agent.py", before: "" }, /outside the harness paths/],
    ["a workflow", { ...good, path: ".github/workflows/eval.yml", before: "" }, /protected/],
    ["a test file inside the harness", { ...good, path: "harness/tests/test_prompt.py", before: "" }, /protected/],
    ["a verifier file", { ...good, path: "harness/verifier/check.sh", before: "" }, /protected/],
    ["a path escaping the repository", { ...good, path: "../outside/system_prompt.md", before: "" }, /not a relative path/],
    ["an absolute path", { ...good, path: "/etc/passwd", before: "" }, /not a relative path/],
  ])("discards %s", (_label, edit, reason) => {
    const result = guardProposal(proposal([edit]), options);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it("discards an edit whose `before` is not in the file, or is not unique", () => {
    const missing = guardProposal(proposal([{ ...good, before: "- This line is not there.\n" }]), options);
    expect(missing).toEqual({ ok: false, reason: "does not apply: the `before` text is not in harness/system_prompt.md" });
    const ambiguous = guardProposal(proposal([{ ...good, before: "- " }]), options);
    expect(ambiguous).toEqual({ ok: false, reason: "does not apply: the `before` text occurs more than once in harness/system_prompt.md, it must be unique" });
  });

  it("discards an edit that changes nothing", () => {
    expect(guardProposal(proposal([{ ...good, after: good.before }]), options)).toEqual({ ok: false, reason: "the edits change nothing" });
  });

  it("enforces the budget: files, changed lines, added characters", () => {
    const twoFiles = guardProposal(proposal([good, { path: "harness/tools.yaml", before: "", after: "# note\n" }]), options);
    expect(twoFiles).toEqual({ ok: false, reason: "too large: touches 2 files (budget 1)" });
    const manyLines = Array.from({ length: 40 }, (_, i) => `- rule ${i}`).join("\n");
    const tooLong = guardProposal(proposal([{ ...good, after: `${manyLines}\n` }]), options);
    expect(tooLong).toEqual({ ok: false, reason: "too large: 41 changed lines (budget 30)" });
    const tooWide = guardProposal(proposal([{ ...good, after: `- ${"x".repeat(3100)}\n` }]), options);
    expect(tooWide.ok).toBe(false);
    if (!tooWide.ok) expect(tooWide.reason).toMatch(/^too large: 3\d{3} added characters \(budget 3000\)$/);
  });

  it("discards an edit that breaks YAML or JSON", () => {
    const yaml = guardProposal(proposal([{ path: "harness/tools.yaml", before: "limits:\n  max_turns: 40\n", after: "limits:\n  max_turns: 40\n   retries: [3\n" }]), options);
    expect(yaml.ok).toBe(false);
    if (!yaml.ok) expect(yaml.reason).toMatch(/^breaks YAML: harness\/tools.yaml no longer parses/);
    const json = guardProposal(proposal([{ path: "harness/settings.json", before: '"temperature": 0.6', after: '"temperature": 0.6,' }]), options);
    expect(json.ok).toBe(false);
    if (!json.ok) expect(json.reason).toMatch(/^breaks JSON: harness\/settings.json no longer parses/);
  });

  it("keeps YAML valid edits", () => {
    const result = guardProposal(proposal([{ path: "harness/tools.yaml", before: "  max_turns: 40\n", after: "  max_turns: 40\n  command_timeout_sec: 120\n" }]), options);
    expect(result.ok).toBe(true);
  });

  it("discards Markdown left inside an unclosed code fence", () => {
    const result = guardProposal(proposal([{ ...good, after: "- Use this template:\n```bash\nset -e\n" }]), options);
    expect(result).toEqual({ ok: false, reason: "breaks Markdown: harness/system_prompt.md would end inside an unclosed code fence" });
    const closed = guardProposal(proposal([{ ...good, after: "- Use this template:\n```bash\nset -e\n```\n" }]), options);
    expect(closed.ok).toBe(true);
  });

  it("discards added task names, test names and trial paths, case-insensitively and on word boundaries", () => {
    const leak = guardProposal(proposal([{ ...good, after: "- For CSV-Column-Stats tasks, write the JSON first.\n" }]), options);
    expect(leak).toEqual({ ok: false, reason: 'leaks a benchmark detail: adds "csv-column-stats" to harness/system_prompt.md' });
    const test = guardProposal(proposal([{ ...good, after: "- Make test_stats_file_exists pass.\n" }]), options);
    expect(test.ok).toBe(false);
    const trialPath = guardProposal(proposal([{ ...good, after: "- Always write /app/output/stats.json.\n" }]), options);
    expect(trialPath.ok).toBe(false);
    // A longer word that merely contains a forbidden name is not a leak.
    const near = guardProposal(proposal([{ ...good, after: "- Summarise csv-column-statsd output.\n" }]), options);
    expect(near.ok).toBe(true);
  });

  it("does not blame an edit for a name the file already held", () => {
    const withName = sampleHarness({ "harness/system_prompt.md": `${SYSTEM_PROMPT}\nSee csv-column-stats for an example.\n` });
    const result = guardProposal(proposal([{ ...good }]), { ...options, harness: withName });
    expect(result.ok).toBe(true);
  });

  it("appends on an empty `before` and creates a new file inside the harness paths", () => {
    const appended = applyEdits(harness, [{ path: "harness/system_prompt.md", before: "", after: "## New\n" }]);
    expect(appended.ok && appended.changes[0]!.after).toBe(`${SYSTEM_PROMPT}## New\n`);
    const created = guardProposal(proposal([{ path: "harness/checklist.md", before: "", after: "# Checklist\n\n- Check outputs.\n" }]), options);
    expect(created).toMatchObject({ ok: true, changes: [{ path: "harness/checklist.md", before: null }] });
  });

  it("never takes a file that exists but was not loaded for a new one", () => {
    // A file over the harness size limit is in the tree but not in the harness: an empty `before` would replace it whole.
    const replace = guardProposal(proposal([{ path: "harness/big_examples.md", before: "", after: "- one rule\n" }]), options);
    expect(replace).toEqual({
      ok: false,
      reason: "cannot create harness/big_examples.md: it exists in the repository but was not loaded as a harness file (too large, binary or a link), so it cannot be edited",
    });
    const folder = guardProposal(proposal([{ path: "harness/prompts", before: "", after: "x\n" }]), options);
    expect(folder).toEqual({ ok: false, reason: "cannot create harness/prompts: it is a folder in the repository" });
    const underFile = guardProposal(proposal([{ path: "harness/big_examples.md/notes.md", before: "", after: "x\n" }]), options);
    expect(underFile).toEqual({ ok: false, reason: "cannot create harness/big_examples.md/notes.md: harness/big_examples.md is a file in the repository" });
  });

  it("creates no file at all when the repository's file list is not given", () => {
    const { existingPaths: _omitted, ...blind } = options;
    const created = guardProposal(proposal([{ path: "harness/checklist.md", before: "", after: "# Checklist\n" }]), blind);
    expect(created).toEqual({
      ok: false,
      reason: "cannot create harness/checklist.md: the repository's file list is unknown, so an existing file the harness did not load could be replaced whole",
    });
    expect(applyEdits(harness, [{ path: "harness/big_examples.md", before: "", after: "x" }]).ok).toBe(false);
    // Appending to a loaded file needs no file list.
    expect(applyEdits(harness, [{ path: "harness/system_prompt.md", before: "", after: "x" }]).ok).toBe(true);
  });

  it.each([
    ".github/workflows/eval.yml",
    "harness/.github/workflows/nested.yml",
    ".GitHub/workflows/eval.yml",
    ".circleci/config.yml",
    ".gitlab-ci.yml",
    "harness/.gitlab-ci.yml",
    ".travis.yml",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    "Jenkinsfile",
    "harness/Jenkinsfile",
    ".buildkite/pipeline.yml",
    ".drone.yml",
    "appveyor.yml",
    ".woodpecker.yml",
    ".woodpecker/build.yml",
    "cloudbuild.yaml",
    ".pre-commit-config.yaml",
    ".gitea/workflows/ci.yml",
    ".forgejo/workflows/ci.yml",
    ".husky/pre-commit",
  ])("protects the CI configuration %s even inside the harness paths", (path) => {
    const result = guardProposal(proposal([{ path, before: "", after: "x: 1\n" }]), { ...options, harnessPaths: ["**"] });
    expect(result).toEqual({ ok: false, reason: `path ${path} is protected (CI configuration, tests, verifier and task files are never edited)` });
  });
});

describe("selectCandidates", () => {
  it("drops duplicates of earlier attempts even with another anchor, keeps every reason, ranks the preferred surface first", () => {
    const appended = proposal([{ path: "harness/system_prompt.md", before: "", after: "\n## Verify\n\n- Run a check before finishing.\n" }], "Verify (append)");
    const anchored = proposal(
      [{ path: "harness/system_prompt.md", before: "- Report the answer in your final summary.\n", after: "- Report the answer in your final summary.\n\n## Verify\n\n- Run a check   before finishing.\n" }],
      "Verify (anchored)",
    );
    const toolsEdit = proposal([{ path: "harness/tools.yaml", before: "  max_turns: 40\n", after: "  max_turns: 30\n" }], "Fewer turns");
    const outside = proposal([{ path: "README.md", before: "", after: "x" }], "Outside");
    expect(changeKey(appended)).toBe(changeKey(anchored));

    const result = selectCandidates([toolsEdit, anchored, outside, proposal([good], "Write early")], {
      ...options,
      earlier: [{ title: "Verify (append)", reason: "regression gate rejected it", proposal: appended }],
      preferredPaths: ["harness/system_prompt.md"],
    });
    expect(result.proposals.map((p) => p.title)).toEqual(["Write early", "Fewer turns"]);
    expect(result.discarded).toEqual([
      { title: "Verify (anchored)", reason: "duplicate of an earlier attempt (“Verify (append)”: regression gate rejected it)" },
      { title: "Outside", reason: "path README.md is outside the harness paths (harness/**, AGENTS.md)" },
    ]);
  });

  it("drops a candidate repeating another candidate", () => {
    const result = selectCandidates([proposal([good], "A"), proposal([{ ...good, after: good.after.toUpperCase() }], "B")], { ...options, earlier: [] });
    expect(result.proposals.map((p) => p.title)).toEqual(["A"]);
    expect(result.discarded).toEqual([{ title: "B", reason: "duplicate of candidate “A”" }]);
  });
});

describe("renderDiff", () => {
  it("renders a git-style diff that git apply accepts", () => {
    const diff = renderDiff(harness, proposal([good]));
    expect(diff.split("\n").slice(0, 3)).toEqual(["diff --git a/harness/system_prompt.md b/harness/system_prompt.md", "--- a/harness/system_prompt.md", "+++ b/harness/system_prompt.md"]);
    expect(diff).toContain("-- Explore the environment before changing anything.");
    expect(diff).toContain("+- Create every required output file first, then explore.");

    const dir = mkdtempSync(path.join(os.tmpdir(), "diff-"));
    try {
      mkdirSync(path.join(dir, "harness"));
      writeFileSync(path.join(dir, "harness/system_prompt.md"), SYSTEM_PROMPT);
      writeFileSync(path.join(dir, "patch.diff"), diff);
      execFileSync("git", ["init", "-q"], { cwd: dir });
      execFileSync("git", ["apply", "patch.diff"], { cwd: dir });
      expect(readFileSync(path.join(dir, "harness/system_prompt.md"), "utf8")).toBe(SYSTEM_PROMPT.replace(good.before, good.after));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("renders a new file against /dev/null", () => {
    const diff = renderDiff(harness, proposal([{ path: "harness/checklist.md", before: "", after: "# Checklist\n" }]), existingPaths);
    expect(diff).toBe("diff --git a/harness/checklist.md b/harness/checklist.md\nnew file mode 100644\n--- /dev/null\n+++ b/harness/checklist.md\n@@ -0,0 +1,1 @@\n+# Checklist\n");
  });
});

describe("normalisePath", () => {
  it("keeps relative POSIX paths and refuses escapes", () => {
    expect(normalisePath("./harness//prompt.md")).toBe("harness/prompt.md");
    expect(normalisePath("harness\\prompt.md")).toBe("harness/prompt.md");
    expect(normalisePath("harness/../../x")).toBeNull();
    expect(normalisePath("C:/x")).toBeNull();
    expect(normalisePath("")).toBeNull();
  });
});
