/**
 * The dashboard's checkboxes over real HTTP: only a writer's tick on the app's own dashboard issue
 * does anything; ignore closes an open proposal or keeps a weakness from being proposed; retry
 * proposes again from the last eval run. The issue is rewritten after each action, which unticks it.
 */
import { describe, expect, it } from "vitest";
import { dashboardState } from "../../src/loop/dashboard-state.js";
import { TEST_STATE_KEY } from "../state.js";
import { readState } from "../state.js";
import { useWorld } from "./use-world.js";
import { candidatesAnswer, RETRY_FIX, TASKS_V2 } from "./world.js";

const world = useWorld();

const VERIFY_OUTPUT = { title: "Verify the output file exists before finishing", before: "- Prefer small, verifiable steps.\n", after: "- Prefer small, verifiable steps.\n- Before declaring the task done, check that the required output file exists and is non-empty.\n" };

/** The body with one action's box ticked, as a person does it in GitHub's editor. */
function tick(action: "retry" | "ignore", weakness: string) {
  return (body: string) => {
    const marker = `<!-- selfharness:${action} ${weakness} -->`;
    const line = body.split("\n").find((l) => l.includes(marker));
    if (!line) throw new Error(`no ${action} box for ${weakness} on the dashboard`);
    return body.replace(line, line.replace("- [ ]", "- [x]"));
  };
}

function dashboardIssue() {
  return world().dashboards()[0]!;
}

function row(weakness: string): string {
  return world().dashboard().split("\n").find((l) => l.startsWith("| ") && l.includes(`(\`${weakness}\`)`)) ?? "";
}

describe("the dashboard's checkboxes", () => {
  let proposed: string;
  let other: string;

  it("lists both weaknesses: one proposed, the other found but waiting for the open-PR limit", async () => {
    const { repo, model } = world();
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    for (let i = 0; i < 3; i++) await world().evalRun(TASKS_V2, { conclusion: "success" });
    await world().deliverRun([...repo.runs.keys()].at(-1)!);
    expect(repo.pulls()).toHaveLength(1);
    proposed = readState(repo.pulls()[0]!.body)!.weakness;
    const state = dashboardState(TEST_STATE_KEY).decode(world().dashboard())!;
    expect(state.weaknesses).toHaveLength(2);
    other = state.weaknesses.find((w) => w.id !== proposed)!.id;
    expect(row(proposed)).toMatch(/^\| validating \|/);
    expect(row(other)).toMatch(/^\| found \|.*\|\s+\|$/);
  });

  it("does nothing for a reader's tick, and unticks it", async () => {
    const { repo } = world();
    await world().editIssue(dashboardIssue().number, "drive-by", tick("ignore", other));
    expect(dashboardState(TEST_STATE_KEY).decode(world().dashboard())!.ignored).toEqual([]);
    expect(world().dashboard()).not.toContain("- [x]");
    expect(repo.pulls()[0]!.state).toBe("open");
  });

  it("does nothing for ticks on an issue the app did not open, or for edits by a bot", async () => {
    const { repo, gh } = world();
    const forged = repo.nextIssue++;
    repo.issues.set(forged, { ...dashboardIssue(), number: forged, user: gh.user("mallory"), body: world().dashboard() });
    await world().editIssue(forged, "maintainer", tick("ignore", other));
    await world().editIssue(dashboardIssue().number, gh.botUser.login, tick("ignore", other));
    expect(dashboardState(TEST_STATE_KEY).decode(world().dashboard())!.ignored).toEqual([]);
    expect(world().app.logs.some((l) => l.msg === "ticked boxes ignored: not the app's own dashboard issue")).toBe(true);
    repo.issues.delete(forged);
    // The bot's own edit is still on the issue: the next rewrite unticks it.
    dashboardIssue().body = world().dashboard().replace("- [x]", "- [ ]");
  });

  it("ignores a weakness without a proposal for a writer, and closes the open proposal of the other", async () => {
    const { repo } = world();
    await world().editIssue(dashboardIssue().number, "maintainer", tick("ignore", other));
    expect(dashboardState(TEST_STATE_KEY).decode(world().dashboard())!.ignored.map((i) => [i.weakness, i.by])).toEqual([[other, "maintainer"]]);
    expect(row(other)).toMatch(/^\| ignored \|/);
    expect(world().dashboard()).toContain(`<!-- selfharness:retry ${other} -->`);
    expect(world().dashboard()).not.toContain(`<!-- selfharness:ignore ${other} -->`);

    await world().editIssue(dashboardIssue().number, "maintainer", tick("ignore", proposed));
    const pr = repo.pulls()[0]!;
    expect(pr.state).toBe("closed");
    expect(pr.labels).toContain("selfharness:ignored");
    expect(row(proposed)).toMatch(/^\| ignored \|/);
    expect(world().dashboard()).not.toContain("- [x]");
  });

  it("proposes nothing from an eval run whose dashboard cannot be read, and says why", async () => {
    const { repo, gh, model } = world();
    const listing = (url: URL) => url.searchParams.get("labels") === "selfharness:dashboard";
    gh.fault("GET /repos/{owner}/{repo}/issues", { status: 502, only: listing }, 20);
    const run = await world().evalRun(TASKS_V2, { conclusion: "success" });
    const from = gh.requests.length;
    await world().deliverRun(run.id);
    expect(gh.pendingFaults()).toBeLessThan(20);
    gh.clearFaults();
    expect(repo.pulls().filter((p) => p.state === "open")).toHaveLength(0);
    expect(model.pending).toBe(0);
    // The job fails in words, and only for that reason (the errors are taken off so later tests see none).
    const logs = world().app.logs;
    const errors = logs.filter((l) => l.level === "error");
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(JSON.stringify(error)).toContain(`eval run ${run.id}: the dashboard issue could not be read, so nothing is proposed from this run`);
    logs.splice(0, logs.length, ...logs.filter((l) => l.level !== "error"));
    // Nothing written: no branch, no pull request, no dashboard edit.
    expect(gh.requests.slice(from).filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.route}`)).toEqual([]);
  });

  it("proposes for neither at the next eval run, and the dashboard says why", async () => {
    const { repo, model } = world();
    const run = await world().evalRun(TASKS_V2, { conclusion: "success" });
    await world().deliverRun(run.id);
    expect(repo.pulls()).toHaveLength(1);
    expect(model.pending).toBe(0);
    // Trace and reason text never mentions people or links issues on the dashboard (a zero-width space after @ and #).
    expect(world().dashboard()).toMatch(/\*\*no proposal\*\*: every weakness is taken \(.*ignored in #\u200b1.*ignored on the dashboard by @\u200bmaintainer.*\)/);
  });

  it("proposes again for a writer's retry, from the last eval run", async () => {
    const { repo, model } = world();
    model.enqueue(candidatesAnswer([VERIFY_OUTPUT]));
    await world().editIssue(dashboardIssue().number, "maintainer", tick("retry", other));
    const open = repo.pulls().filter((p) => p.state === "open");
    expect(open).toHaveLength(1);
    expect(readState(open[0]!.body)!.weakness).toBe(other);
    expect(dashboardState(TEST_STATE_KEY).decode(world().dashboard())!.ignored).toEqual([]);
    expect(row(other)).toMatch(new RegExp(`^\\| validating \\|.*#${open[0]!.number} \\|$`));
    expect(world().dashboards()).toHaveLength(1);
    expect(world().gh.violations).toEqual([]);
    expect(world().app.logs.filter((l) => l.level === "error")).toEqual([]);
  });
});
