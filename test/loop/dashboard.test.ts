/**
 * The dashboard as pure functions over plain data: the statuses a weakness gets from its proposals,
 * suspect tasks, the rendered text (checkboxes that parse back, hostile text neutralised, bounded) and
 * the hidden state (a tampered one is refused).
 */
import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";
import { weaknessRows } from "../../src/loop/dashboard.js";
import { dashboardState, emptyDashboardState, type DashboardState } from "../../src/loop/dashboard-state.js";
import { TEST_STATE_KEY } from "../state.js";
import type { PullRequest } from "../../src/loop/host.js";
import type { ProposalState } from "../../src/loop/state.js";
import { renderDashboard, tickedActions, type DashboardView } from "../../src/report/dashboard.js";
import { approvalWait, isProse } from "../../src/loop/approval.js";
import { sampleMetadata } from "../github/regression-fixtures.js";

function proposal(number: number, weakness: string, fields: Partial<PullRequest> = {}, state: Partial<ProposalState> = {}): PullRequest {
  return {
    number,
    open: true,
    merged: false,
    title: `selfharness: edit for ${weakness}`,
    body: "",
    headRef: `selfharness/${weakness}`,
    headSha: `head-${number}`,
    baseRef: "main",
    labels: ["selfharness"],
    ...fields,
    state: sampleMetadata({ weakness, ...state }),
  };
}

const withWeaknesses = (ids: string[]): DashboardState => ({ ...emptyDashboardState(), weaknesses: ids.map((id, i) => ({ id, title: `Weakness ${id}`, failures: 4 - i, tasks: 2 })) });

describe("weaknessRows", () => {
  it("gives each weakness the status of its open proposal, else of its latest closed one", () => {
    const state = withWeaknesses(["a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8"]);
    const open = [
      proposal(1, "a1", { labels: ["selfharness", "selfharness:validating"] }),
      proposal(2, "b2", {}, { verdict: { decision: "reject", headSha: "head-2" }, alternatives: [] }),
      proposal(3, "c3", {}, { approval: { headSha: "head-3" } }),
      proposal(4, "d4", {}, { verdict: { decision: "accept", headSha: "head-4" } }),
    ];
    const closed = [
      proposal(8, "e5", { open: false, labels: ["selfharness", "selfharness:ignored"] }),
      proposal(7, "f6", { open: false }, { verdict: { decision: "reject", headSha: "head-7" }, alternatives: [] }),
      proposal(6, "g7", { open: false, merged: true }),
      // An older closed proposal of e5 does not speak for it: the newest does.
      proposal(5, "e5", { open: false, merged: true }),
    ];
    const rows = weaknessRows(state, open, closed);
    expect(rows.map((r) => [r.id, r.status, r.note ?? "", r.pr ?? null, r.actions.join("+")])).toEqual([
      ["a1", "validating", "", 1, "retry+ignore"],
      ["b2", "rejected", "no candidate left", 2, "retry+ignore"],
      ["c3", "proposed", "waits for /selfharness approve", 3, "retry+ignore"],
      ["d4", "accepted", "ready to merge", 4, "ignore"],
      ["e5", "ignored", "", 8, "retry"],
      ["f6", "exhausted", "every candidate was rejected", 7, "retry+ignore"],
      ["g7", "accepted", "merged", 6, ""],
      ["h8", "found", "", null, "retry+ignore"],
    ]);
  });

  it("shows a weakness ignored on the dashboard as ignored unless a proposal for it is open", () => {
    const state: DashboardState = { ...withWeaknesses(["a1", "b2"]), ignored: [{ weakness: "a1", by: "mona", at: "t" }, { weakness: "b2", by: "mona", at: "t" }] };
    const rows = weaknessRows(state, [proposal(1, "b2")], []);
    expect(rows.map((r) => [r.id, r.status])).toEqual([["a1", "ignored"], ["b2", "proposed"]]);
  });

  it("lists a weakness known only from its proposal, titled after it", () => {
    const rows = weaknessRows(emptyDashboardState(), [proposal(9, "z9")], []);
    expect(rows).toEqual([expect.objectContaining({ id: "z9", title: "edit for z9", status: "proposed", pr: 9 })]);
    expect(rows[0]!.failures).toBeUndefined();
  });
});

const config = (() => {
  const result = validateConfig({});
  if (!result.ok) throw new Error("defaults");
  return result.config;
})();

function view(fields: Partial<DashboardView> = {}): DashboardView {
  return { weaknesses: [], suspect: [], versions: [], settings: { conclusions: config.eval.conclusions, maxOpenPRs: 1, approval: "code" }, ...fields };
}

describe("renderDashboard and tickedActions", () => {
  it("renders one box per action, and a ticked box parses back to its action", () => {
    const rows = weaknessRows(withWeaknesses(["a1b2c3d4e5", "f6"]), [proposal(3, "a1b2c3d4e5")], []);
    const text = renderDashboard(view({ weaknesses: rows }));
    expect(tickedActions(text)).toEqual([]);
    const boxes = text.split("\n").filter((l) => l.startsWith("- [ ]"));
    expect(boxes).toHaveLength(4);
    const ticked = text.replace(boxes[1]!, boxes[1]!.replace("- [ ]", "- [x]")).replace(boxes[2]!, boxes[2]!.replace("- [ ]", "* [X]"));
    expect(tickedActions(ticked)).toEqual([
      { action: "ignore", weakness: "a1b2c3d4e5" },
      { action: "retry", weakness: "f6" },
    ]);
  });

  it("takes ticks only from the app's markers, each once, and at most ten", () => {
    const lines = Array.from({ length: 30 }, (_, i) => `- [x] anything <!-- selfharness:retry w${i} -->`);
    expect(tickedActions(lines.join("\n"))).toHaveLength(10);
    expect(tickedActions("- [x] x <!-- selfharness:retry w1 -->\n- [x] again <!-- selfharness:retry w1 -->")).toHaveLength(1);
    expect(tickedActions("- [x] <!-- selfharness:merge w1 -->\n- [x] <!-- selfharness:retry w1;rm -->\n[x] <!-- selfharness:retry w2 -->")).toEqual([]);
  });

  it("neutralises trace text: no mentions, issue links, HTML or broken tables; the chart only gets safe labels", () => {
    const rows = weaknessRows({ ...emptyDashboardState(), weaknesses: [{ id: "a1", title: "@octocat <img src=x> #12 | break", failures: 1, tasks: 1 }] }, [], []);
    const text = renderDashboard(
      view({
        weaknesses: rows,
        suspect: [{ task: "`evil` @team", reason: "see #3" }],
        versions: [{ version: 'v"] ]\nline', runs: [1], passed: 1, valid: 2, invalid: 0, last: "2026-01-05T10:00:00.000Z" }],
        lastRun: { runId: 5, url: "https://github.com/o/r/actions/runs/5", at: "2026-01-05T10:00:00.000Z", conclusion: "success", outcome: "no-weakness", reason: "cc @admins" },
      }),
    );
    // Code spans are shown verbatim (GitHub links and notifies nothing inside them); outside them, nothing mentions or links.
    expect(text.replace(/`[^`\n]*`/g, "")).not.toMatch(/@(octocat|team|admins)|#(12|3)\b|<img/);
    expect(text).toContain("\\| break");
    expect(text).toContain('x-axis ["vline (1 run)"]');
    expect(text).toContain("- `'evil' @team`: see #\u200b3");
  });

  it("shows names in code spans as they are: nothing inside a code span is escaped", () => {
    const text = renderDashboard(
      view({
        suspect: [{ task: "fix_git_repo", reason: "the verifier cannot run" }],
        invalid: { trials: 10, invalid: 2, byKind: { verifier_error: 2 } },
        versions: [{ version: "v1_*rc*", runs: [1], passed: 1, valid: 2, invalid: 0, last: "2026-01-05T10:00:00.000Z" }],
      }),
    );
    expect(text).toContain("- `fix_git_repo`: the verifier cannot run");
    expect(text).toContain("`verifier_error` 2");
    expect(text).toContain("| `v1_*rc*` | 1 |");
    expect(text).not.toMatch(/`[^`\n]*\\[^`\n]*`/);
  });

  it("says why the last run proposed nothing, and what the playbook did", () => {
    const base = { runId: 5, url: "https://github.com/o/r/actions/runs/5", at: "2026-01-05T10:00:00.000Z", conclusion: "success" };
    expect(renderDashboard(view({ lastRun: { ...base, outcome: "no-trials", reason: "no trials in the artifacts of runs 5 (run 5 has no artifact matching eval.artifacts)" } }))).toContain(
      "[Eval run 5](https://github.com/o/r/actions/runs/5) (`success`), 2026-01-05 10:00:00 UTC: **no proposal**: no trials in the artifacts of runs 5 (run 5 has no artifact matching eval.artifacts).",
    );
    const opened = renderDashboard(view({ lastRun: { ...base, outcome: "opened", reason: "opened #4", pr: 4, note: "The model answer was unusable (model answer unusable: empty answer), so the built-in playbook wrote the edit." } }));
    expect(opened).toContain("opened #4.\n\n> The model answer was unusable (model answer unusable: empty answer), so the built-in playbook wrote the edit.");
  });
});

describe("the dashboard state", () => {
  it("round-trips through the issue text, and a tampered or oversized state is refused", () => {
    const state: DashboardState = { ...withWeaknesses(["a1"]), history: [{ runId: 1, harnessVersion: "abc", headSha: "f".repeat(40), at: "t", passed: 1, valid: 2, invalid: 0 }] };
    const text = `${renderDashboard(view())}\n\n${dashboardState(TEST_STATE_KEY).encode(state)}`;
    expect(dashboardState(TEST_STATE_KEY).decode(text)).toEqual(state);
    // Edited by someone without the key: the seal no longer verifies.
    const tampered = (value: unknown) => text.replace(/(<!-- selfharness:dashboard )\S+( [0-9a-f]{64} -->)/, `$1${Buffer.from(JSON.stringify(value)).toString("base64")}$2`);
    expect(dashboardState(TEST_STATE_KEY).decode(tampered({ ...state, ignored: [{ weakness: "a1", by: "mallory", at: "t" }] }))).toBeNull();
    // Sealed with the key but not a state this version accepts.
    const sealed = (value: unknown) => dashboardState(TEST_STATE_KEY).encode(value as DashboardState);
    expect(dashboardState(TEST_STATE_KEY).decode(sealed({ ...state, history: [{ ...state.history[0], passed: -1 }] }))).toBeNull();
    expect(dashboardState(TEST_STATE_KEY).decode(sealed({ ...state, version: 2 }))).toBeNull();
    expect(dashboardState(TEST_STATE_KEY).decode(sealed({ ...state, ignored: Array.from({ length: 201 }, () => ({ weakness: "a", by: "b", at: "c" })) }))).toBeNull();
    expect(dashboardState(TEST_STATE_KEY).decode("<!-- selfharness:dashboard !!! -->")).toBeNull();
  });
});

describe("approval", () => {
  it("counts only Markdown, plain text, reStructuredText and AsciiDoc as prose, by extension", () => {
    for (const prose of ["AGENTS.md", "harness/prompts/system.MD", "notes.markdown", "doc.mdx", "rules.txt", "a/b.rst", "guide.adoc"]) expect(isProse(prose), prose).toBe(true);
    for (const code of ["harness/tools.yaml", "harness/config.json", "run.py", "prompt.j2", "Makefile", ".md", "script.sh", "x.md.py", "README"]) expect(isProse(code), code).toBe(false);
  });

  const ctx = (approval: "code" | "always" | "never") => ({ config: { ...config, regression: { ...config.regression, approval } }, llm: null, labelCache: new Map() });
  const pr = (paths: string[], approval?: ProposalState["approval"]) => ({
    headSha: "h1",
    state: sampleMetadata({ current: { ...sampleMetadata().current, edits: paths.map((path) => ({ path, before: "a", after: "b" })) }, ...(approval ? { approval } : {}) }),
  });

  it("holds edits beyond prose under `code`, every edit under `always`, none under `never`, and none once approved for the commit", () => {
    expect(approvalWait(ctx("code"), pr(["AGENTS.md", "harness/prompts/system.md"]))).toBeNull();
    expect(approvalWait(ctx("code"), pr(["AGENTS.md", "harness/tools.yaml", "harness/tools.yaml"]))).toEqual({ files: ["harness/tools.yaml"], because: "code" });
    expect(approvalWait(ctx("always"), pr(["AGENTS.md"]))).toEqual({ files: ["AGENTS.md"], because: "always" });
    expect(approvalWait(ctx("never"), pr(["run.py"]))).toBeNull();
    expect(approvalWait(ctx("code"), pr(["run.py"], { headSha: "h1", approvedBy: "mona" }))).toBeNull();
    // Approved for an older commit, or only requested: still waiting.
    expect(approvalWait(ctx("code"), pr(["run.py"], { headSha: "h0", approvedBy: "mona" }))).not.toBeNull();
    expect(approvalWait(ctx("code"), pr(["run.py"], { headSha: "h1" }))).not.toBeNull();
  });
});
