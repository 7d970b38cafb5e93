/**
 * A model-written edit of a harness file that is not prose waits for a writer's `/selfharness approve`
 * before the regression workflow (which runs with the repository's secrets) sees it; then the gate
 * check's Re-run button judges the recorded runs again, or dispatches a run that is gone.
 */
import { describe, expect, it } from "vitest";
import { readState } from "../state.js";
import type { Issue } from "./fake-github.js";
import { useWorld } from "./use-world.js";
import { candidatesAnswer } from "./world.js";

const world = useWorld();

/** An edit of the runner's limits: YAML, so code as far as approval goes. */
const MORE_TURNS = { title: "Give the agent more turns to recover from a failed build", path: "harness/config.yaml", before: "max_turns: 60\n", after: "max_turns: 80\n" };

function comments(pr: Issue): string[] {
  return world().repo.commentsOn(pr.number).filter((c) => c.user.type === "Bot").map((c) => c.body);
}

describe("approval before a model-written code edit runs with secrets", () => {
  let pr: Issue;

  it("opens the proposal but dispatches nothing; the check, the description and the dashboard say what waits", async () => {
    const { repo, model } = world();
    model.enqueue(candidatesAnswer([MORE_TURNS]));
    const runs = await world().failingEvalRuns();
    await world().deliverRun(runs[2]!);
    pr = repo.pulls()[0]!;
    expect(repo.file(pr.pull!.head, "harness/config.yaml")).toContain("max_turns: 80");
    expect(repo.dispatches).toEqual([]);
    const checks = world().gateChecks(repo.headSha(pr));
    expect(checks.map((c) => [c.status, c.output.title])).toEqual([["in_progress", "Waiting for approval: /selfharness approve"]]);
    expect(checks[0]!.output.summary).toContain("`harness/config.yaml`");
    expect(pr.body).toMatch(/### Validation\n\n\*\*Waiting for approval\.\*\* This edit changes more than prose \(`harness\/config.yaml`\)/);
    expect(pr.labels).not.toContain("selfharness:validating");
    expect(world().dashboard()).toContain("proposed (waits for /selfharness approve)");
    expect(world().dashboard()).toContain(`#\u200b${pr.number} waits for \`/selfharness approve\``);
  });

  it("keeps waiting for a reader's approval and for a Re-run", async () => {
    const { repo } = world();
    await world().comment(pr.number, "drive-by", "/selfharness approve");
    expect(comments(pr).at(-1)).toMatch(/only people with write or admin access/);
    await world().rerunCheck(world().gateChecks(repo.headSha(pr))[0]!.id, "maintainer");
    expect(repo.dispatches).toEqual([]);
    expect(world().gateChecks(repo.headSha(pr))).toHaveLength(1);
  });

  it("runs the regression workflow once a writer approves, and records who approved which commit", async () => {
    const { repo } = world();
    const head = repo.headSha(pr);
    await world().comment(pr.number, "maintainer", "/selfharness approve");
    expect(repo.dispatches.map((d) => d.ref)).toEqual([pr.pull!.head, "main"]);
    expect(readState(pr.body)!.approval).toMatchObject({ headSha: head, approvedBy: "maintainer" });
    expect(world().gateChecks(head).map((c) => [c.status, c.conclusion, c.output.title])).toEqual([
      ["completed", "neutral", "Approved by @maintainer"],
      ["in_progress", null, "Stage 1 in progress"],
    ]);
    expect(comments(pr).at(-1)!.startsWith(`Approved by @maintainer for commit \`${head.slice(0, 7)}\`; the regression run starts.`)).toBe(true);
    expect(pr.labels).toContain("selfharness:validating");

    await world().comment(pr.number, "maintainer", "/selfharness approve");
    expect(comments(pr).at(-1)).toMatch(/Nothing waits for approval .*@maintainer approved it already/);
    expect(repo.dispatches).toHaveLength(2);
  });

  it("Re-run judges the recorded runs again: same verdict, same comment, nothing dispatched", async () => {
    const { repo } = world();
    await world().runDispatches();
    const head = repo.headSha(pr);
    const gate = world().gateChecks(head).find((c) => c.output.title !== "Approved by @maintainer")!;
    expect(gate.status).toBe("completed");
    const verdict = readState(pr.body)!.verdict!;
    const verdictComments = comments(pr).filter((c) => c.includes("selfharness gate:"));
    expect(verdictComments).toHaveLength(1);

    await world().rerunCheck(gate.id, "drive-by");
    expect(gate.history).toHaveLength(2);
    await world().rerunCheck(gate.id, "maintainer");
    expect(repo.dispatches).toHaveLength(2);
    expect(gate.history.length).toBeGreaterThan(2);
    expect([gate.status, gate.conclusion]).toEqual(["completed", verdict.decision === "accept" ? "success" : verdict.decision === "reject" ? "failure" : "neutral"]);
    expect(readState(pr.body)!.verdict).toMatchObject({ decision: verdict.decision, headSha: head });
    expect(comments(pr).filter((c) => c.includes("selfharness gate:"))).toEqual(verdictComments);
    expect(world().app.logs.some((l) => l.msg === "re-run refused: no write permission")).toBe(true);
  });

  it("Re-run runs the stage again when its recorded run is gone, and the new runs join it", async () => {
    const { repo } = world();
    const state = readState(pr.body)!;
    const before = repo.dispatches.length;
    repo.runs.delete(state.validation!.stages[0]!.candidate[0]!.runId!);
    const gate = world().gateChecks(repo.headSha(pr)).find((c) => c.id === state.validation!.checkRunId)!;
    await world().rerunCheck(gate.id, "maintainer");
    expect(repo.dispatches).toHaveLength(before + 2);
    expect(repo.dispatches.slice(before).map((d) => d.ref)).toEqual([pr.pull!.head, "main"]);
    const stage = readState(pr.body)!.validation!.stages[0]!;
    // The round with the gone run leaves the stage on both sides (its baseline had nothing of its window
    // left to pair with); the repeat is the stage's round now.
    expect(stage.candidate.map((d) => d.runId)).toEqual([repo.dispatches[before]!.runId]);
    expect(stage.baseline.map((d) => d.runId)).toEqual([repo.dispatches[before + 1]!.runId]);
    expect(world().gh.violations).toEqual([]);
    expect(world().app.logs.filter((l) => l.level === "error")).toEqual([]);
  });
});
