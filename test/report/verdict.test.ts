import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";
import { decide } from "../../src/gate/decide.js";
import { judge } from "../../src/gate/judge.js";
import { countByTask } from "../../src/gate/outcomes.js";
import { planValidation } from "../../src/gate/plan.js";
import { watchAfterMerge } from "../../src/gate/watch.js";
import { verdictTitle } from "../../src/report/comments.js";
import { formatPlan, formatVerdictMarkdown, formatVerdictText, formatWatchText, verdictChart } from "../../src/report/verdict.js";
import { side, trial } from "../gate/trials.js";

const defaults = (() => {
  const result = validateConfig({});
  if (!result.ok) throw new Error("default configuration must be valid");
  return result.config;
})();
const config = defaults.gate;

const baseline = [
  ...side({ "fix-git": [0, 3], "build-cache": [3, 0], "parse|logs": [1, 2], "hello-world": [2, 1], "ho-sqlite": [0, 3], "ho-regex": [1, 2] }, "base"),
  trial("hello-world", "invalid", { run: "base", attempt: 4, kind: "environment_setup" }),
];
const candidate = side({ "fix-git": [3, 0], "build-cache": [0, 3], "parse|logs": [2, 1], "hello-world": [2, 1], "ho-sqlite": [2, 1], "ho-regex": [1, 2] }, "cand");
const verdict = decide({ baseline, candidate, heldOut: ["ho-sqlite", "ho-regex"], targeted: ["fix-git"], config });

describe("formatVerdictText", () => {
  const text = formatVerdictText(verdict);
  it("leads with the decision, the settings and the trials spent", () => {
    expect(verdict.decision).toBe("needs-more-evidence");
    expect(text.split("\n").slice(0, 2)).toEqual(["decision: needs-more-evidence (rule statistical, fixed, alpha 0.03, margin 5.0 pts, seed 1)", "37 task-trials (both sides), 1 look"]);
  });
  it("has a row for all tasks and per split, with rates, Δ, interval and both p-values", () => {
    const row = (label: string) => text.split("\n").find((l) => l.startsWith(label))!;
    expect(row("all tasks")).toMatch(/all tasks\s+6\s+38\.9%\s+55\.6%\s+\+16\.7 pts\s+-\S+ pts \.\. \+\S+ pts\s+0\.\d{3}\s+0\.\d{3}$/);
    // held-in: fix-git 0 → 1, build-cache 1 → 0, parse|logs 1/3 → 2/3, hello-world 2/3 → 2/3
    expect(row("held-in")).toMatch(/held-in\s+4\s+50\.0%\s+58\.3%\s+\+8\.3 pts/);
    expect(text).toContain("94% interval");
    expect(row("targeted")).toMatch(/targeted\s+1\s+0\.0%\s+100\.0%\s+\+100\.0 pts/);
  });
  it("lists every rule, what happens next, the changed tasks and the invalid trials", () => {
    expect(text).toMatch(/ok\s+no hard regression: .*largest: build-cache \(baseline 3\/3, candidate 0\/3, p = 0\.050\)/);
    expect(text).toMatch(/ok\s+valid trials: 1 invalid trial excluded/);
    expect(text).toMatch(/FAIL no significant improvement yet: all 6 tasks/);
    expect(text).toContain("This fixed validation has run all its trials without a decision: a person decides");
    expect(text).toMatch(/build-cache\s+held-in\s+3\/3\s+0\/3\s+-100\.0 pts\s+loss, not significant \(p = 0\.050\)/);
    expect(text).toMatch(/fix-git\s+held-in\s+0\/3\s+3\/3\s+\+100\.0 pts\s+targeted/);
    expect(text).toMatch(/baseline\s+hello-world\s+base\/hello-world__4\s+environment_setup/);
  });
  it("offers the last stage again only while the looks left some alpha unused, and says how much", () => {
    const leftover = verdict.alpha - verdict.looks.at(-1)!.alphaUsed;
    expect(leftover).toBeGreaterThan(verdict.alpha / 100);
    expect(text).toContain(`run the last stage again (/selfharness retry regression): its trials are a look of their own, with the ${leftover.toFixed(4)} of alpha 0.03 the earlier looks left unused.`);
    const usedUp = { ...verdict, looks: [{ ...verdict.looks.at(-1)!, alphaUsed: verdict.alpha }] };
    const spent = formatVerdictText(usedUp);
    expect(spent).not.toContain("retry regression");
    expect(spent).toContain("The looks used the test's whole alpha, so more trials of this commit cannot make the gate accept; for more, raise regression.trials and push a commit");
  });
  it("names the next stage's tasks and the looks of a staged validation", () => {
    const tasks = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const staged = judge({
      stages: [{ baseline: tasks.map((t, i) => trial(t, i < 3 ? "pass" : "fail", { run: "b1" })), candidate: tasks.map((t, i) => trial(t, i < 6 ? "pass" : "fail", { run: "c1" })) }],
      heldOut: [],
      targeted: [],
      config,
    });
    expect(staged.decision).toBe("needs-more-evidence");
    const out = formatVerdictText(staged);
    expect(out).toContain("spent 20 task-trials (both sides) of a budget of 35, 1 look");
    expect(out).toContain("Stage 2 runs 3 tasks × 2 trials on each side (12 task-trials).");
    expect(out).toContain("  tasks: t3, t4, t5");
    expect(formatVerdictMarkdown(staged)).toContain("<details><summary>Tasks of stage 2 (3)</summary>\n\n`t3`, `t4`, `t5`");
  });
});

describe("formatVerdictMarkdown", () => {
  const markdown = formatVerdictMarkdown(verdict);
  it("renders the decision, the split table and one bullet per rule", () => {
    expect(markdown).toContain("**Gate: ⏳ needs more evidence**");
    expect(markdown).toContain("| split | tasks | baseline | candidate | Δ | 94% interval of Δ | p gain | p loss |");
    expect(markdown).toMatch(/\| held-out \| 2 \| 16\.7% \| 50\.0% \| \+33\.3 pts \|/);
    expect(markdown.split("\n").filter((l) => /^- (✅|❌) /.test(l))).toHaveLength(verdict.checks.length);
  });
  it("escapes trace-derived names", () => {
    expect(markdown).toContain("`parse\\|logs`");
    expect(markdown).toContain("<summary>Invalid trials, excluded from every pass fraction (1)</summary>");
  });
  it("embeds the chart", () => {
    expect(markdown).toContain("```mermaid\nxychart-beta");
  });
});

describe("verdictChart", () => {
  it("draws baseline and candidate bars for all tasks and per non-empty split", () => {
    expect(verdictChart(verdict)).toBe(
      [
        "```mermaid",
        "xychart-beta",
        '    title "Pass rate: baseline (first bar) vs candidate (second bar)"',
        '    x-axis ["all tasks", "held-in", "held-out", "targeted"]',
        '    y-axis "pass rate (%)" 0 --> 100',
        "    bar [38.9, 50.0, 16.7, 0.0]",
        "    bar [55.6, 58.3, 50.0, 100.0]",
        "```",
      ].join("\n"),
    );
  });
  it("leaves out the splits without a held-out split, and draws nothing without tasks", () => {
    const oneSplit = decide({ baseline, candidate, heldOut: [], targeted: [], config });
    expect(verdictChart(oneSplit)).toContain('x-axis ["all tasks"]');
    const empty = decide({ baseline: [], candidate: [], heldOut: [], targeted: [], config });
    expect(verdictChart(empty)).toBeNull();
    expect(formatVerdictMarkdown(empty)).toContain("⚠️ inconclusive");
  });
});

describe("verdictTitle", () => {
  it("names both splits when there is a held-out split", () => {
    const accepted = decide({ baseline: side({ a: [0, 3], b: [0, 3], c: [0, 3], d: [0, 3], e: [0, 3], f: [0, 3] }, "base"), candidate: side({ a: [3, 0], b: [3, 0], c: [3, 0], d: [3, 0], e: [3, 0], f: [3, 0] }, "cand"), heldOut: ["f"], targeted: [], config });
    expect(verdictTitle(accepted)).toBe("Accepted: held-in +100.0 pts, held-out +100.0 pts");
  });
  it("says nothing of a held-out split that does not exist", () => {
    const one = decide({ baseline, candidate, heldOut: [], targeted: [], config });
    expect(verdictTitle(one)).toBe("Needs more evidence: +16.7 pts over 6 tasks");
    expect(verdictTitle(one)).not.toContain("held-out");
    expect(verdictTitle(decide({ baseline: [], candidate: [], heldOut: [], targeted: [], config }))).toBe("Inconclusive: no task compared");
  });
});

describe("formatPlan", () => {
  it("says in words what the budget detects and what stage 1 runs", async () => {
    const tasks = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const history = countByTask(tasks.flatMap((t, i) => [1, 2].map((attempt) => trial(t, i % 3 === 0 ? "pass" : "fail", { run: `eval-${attempt}`, attempt }))));
    const plan = await planValidation({ tasks, history, heldOut: [], targeted: [], config: defaults, simulations: 20 });
    const text = formatPlan(plan);
    expect(text).toMatch(/^With 12 tasks and a budget of 42 task-trials \(3\.5 per task, both sides\), this staged validation detects \+\d+\.\d points with 80% power when the gain falls on a few tasks/);
    expect(text).toContain("Stage 1 runs 12 tasks × 1 trial on each side (24 task-trials).");
  });
});

describe("formatWatchText", () => {
  const tasks = Array.from({ length: 20 }, (_, i) => `w${i}`);
  const before = tasks.flatMap((t, i) => [1, 2].map((attempt) => trial(t, i < 6 ? "pass" : "fail", { run: `before-${attempt}`, attempt })));
  const after = tasks.flatMap((t, i) => [1, 2].map((attempt) => trial(t, i < 14 ? "pass" : "fail", { run: `after-${attempt}`, attempt })));
  const result = watchAfterMerge({ before, after, showsWeakness: (t) => t.task < "w2", expected: "the pass rate rises by about 30 points", config });
  it("shows both rates before and after, and the verdict", () => {
    expect(result.verdict).toBe("improved");
    const text = formatWatchText(result);
    expect(text.split("\n")[0]).toBe("watch: improved");
    expect(text).toMatch(/pass rate\s+30\.0% \(\S+ \.\. \S+\)\s+70\.0% \(\S+ \.\. \S+\)\s+\+40\.0 pts/);
    expect(text).toMatch(/weakness rate\s+\S+ \(/);
  });
});
