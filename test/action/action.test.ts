/**
 * The Action's entry point run as GitHub Actions runs it: the environment (GITHUB_EVENT_NAME,
 * GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_API_URL, INPUT_*), the event file (the webhook payload
 * without `installation`, as Actions writes it) and a token, against the e2e suite's fake GitHub. It
 * opens the pull request the app opens for the same runs, and the app takes over from there.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GITHUB_TOKEN_WARNING, runAction, type ActionResult } from "../../src/action/run.js";
import { readState } from "../state.js";
import { octokitFor } from "../e2e/app-server.js";
import type { Issue } from "../e2e/fake-github.js";
import { commentCreated, workflowRunCompleted } from "../e2e/webhooks.js";
import { candidatesAnswer, RETRY_FIX, SYSTEM_PROMPT, World } from "../e2e/world.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "selfharness-action-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The environment of a workflow job that runs the Action for `event`, with the event file written. */
async function actionEnv(world: World, event: string, payload: Record<string, unknown>, inputs: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const { installation: _installation, ...asActionsWritesIt } = payload;
  const eventPath = join(dir, `event-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(eventPath, JSON.stringify(asActionsWritesIt));
  const summary = join(dir, `summary-${Math.random().toString(36).slice(2)}.md`);
  await writeFile(summary, "");
  return {
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: world.repo.fullName,
    GITHUB_API_URL: world.gh.url,
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_RUN_ID: "9001",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_STEP_SUMMARY: summary,
    INPUT_TOKEN: world.gh.issueToken(world.repo.installationId),
    "INPUT_GITHUB-TOKEN": "ghs_the-workflow-s-own-token",
    // The key the app of the tests seals state with: the Action and the app take over from each other.
    "INPUT_STATE-KEY": process.env.SELFHARNESS_STATE_KEY!,
    "INPUT_APP-SLUG": world.gh.appSlug,
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
  };
}

async function run(env: NodeJS.ProcessEnv): Promise<ActionResult & { output: string; summaryFile: string }> {
  let output = "";
  const result = await runAction({ env, Octokit: octokitFor("deployed"), write: (text) => void (output += text) });
  return { ...result, output, summaryFile: await readFile(env.GITHUB_STEP_SUMMARY!, "utf8") };
}

/** What a reviewer sees of a proposal, with the world's own run ids and dispatch ids replaced. */
function seen(world: World, pr: Issue, runs: number[]) {
  const state = readState(pr.body)!;
  const ids = [...runs, ...world.repo.dispatches.map((d) => d.runId)];
  const normalise = (text: string) => ids.reduce((t, id, i) => t.replaceAll(String(id), `RUN${i}`), text).replace(/<!--[\s\S]*?-->/g, "");
  return {
    title: pr.title,
    branch: pr.pull!.head,
    author: pr.user.type,
    labels: [...pr.labels].sort(),
    prompt: world.repo.file(pr.pull!.head, SYSTEM_PROMPT),
    body: normalise(pr.body ?? ""),
    weakness: state.weakness,
    tasks: state.tasks,
    dispatched: world.repo.dispatches.map((d) => ({ ref: d.ref === pr.pull!.head ? "branch" : d.ref, tasks: d.inputs.tasks, trials: d.inputs.trials })),
  };
}

describe("the Action on a failing eval run", () => {
  let appWorld: World;
  let actionWorld: World;
  let byApp: ReturnType<typeof seen>;

  beforeAll(async () => {
    appWorld = await World.start();
    appWorld.model.enqueue(candidatesAnswer([RETRY_FIX]));
    const runs = await appWorld.failingEvalRuns();
    await appWorld.deliverRun(runs[2]!);
    byApp = seen(appWorld, appWorld.repo.pulls()[0]!, runs);
    await appWorld.stop();
    actionWorld = await World.start();
  }, 60_000);

  afterAll(async () => {
    await actionWorld?.stop();
  });

  it("opens the pull request the app opens for the same runs, and starts its validation", async () => {
    const world = actionWorld;
    world.model.enqueue(candidatesAnswer([RETRY_FIX]));
    const runs = await world.failingEvalRuns();
    const result = await run(await actionEnv(world, "workflow_run", workflowRunCompleted(world.repo, runs[2]!)));
    expect(result.exitCode).toBe(0);
    expect(result.summary).toBe("selfharness handled workflow_run.completed in octo-org/agent.");
    expect(world.repo.pulls()).toHaveLength(1);
    expect(seen(world, world.repo.pulls()[0]!, runs)).toEqual(byApp);
    expect(result.output).toContain("proposal pull request opened");
    expect(result.output).not.toContain(GITHUB_TOKEN_WARNING);
    expect(result.summaryFile).toMatch(/^## selfharness done\n\nselfharness handled workflow_run\.completed in octo-org\/agent\.\n/);
    expect(world.app.logs.filter((l) => l.msg === "proposal pull request opened")).toEqual([]);
    expect(world.gh.violations).toEqual([]);
  });

  it("leaves the state where the app takes over: the app judges the regression runs of the Action's proposal", async () => {
    const world = actionWorld;
    const pr = world.repo.pulls()[0]!;
    await world.runDispatches();
    expect(world.gateChecks(world.repo.headSha(pr)).map((c) => c.conclusion)).toEqual(["success"]);
    expect(pr.labels).toContain("selfharness:automerge");
    expect(world.app.logs.some((l) => /gate/i.test(l.msg))).toBe(true);
  });

  it("answers a command as the bundled action/index.mjs, run by node as the runner runs it", async () => {
    const world = actionWorld;
    const pr = world.repo.pulls()[0]!;
    const env = await actionEnv(world, "issue_comment", commentCreated(world.repo, pr.number, "maintainer", "/selfharness help"));
    const bundle = fileURLToPath(new URL("../../action/index.mjs", import.meta.url));
    const child = spawn(process.execPath, [bundle], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(output).toContain("selfharness handled issue_comment.created in octo-org/agent.");
    expect(code).toBe(0);
    const reply = world.repo.commentsOn(pr.number).at(-1)!;
    expect(reply.user.type).toBe("Bot");
    expect(reply.body).toContain("/selfharness retry");
  }, 60_000);
});

describe("the Action's inputs and failures", () => {
  let world: World;

  beforeAll(async () => {
    world = await World.start();
  }, 60_000);

  afterAll(async () => {
    await world?.stop();
  });

  it("warns, with GitHub's reason, when the token is the workflow's GITHUB_TOKEN", async () => {
    const run0 = await world.evalRun(["hello-world"]);
    const env = await actionEnv(world, "workflow_run", workflowRunCompleted(world.repo, run0.id));
    env["INPUT_GITHUB-TOKEN"] = env.INPUT_TOKEN;
    const result = await run(env);
    expect(result.exitCode).toBe(0);
    expect(result.output).toContain(`::warning::${GITHUB_TOKEN_WARNING}`);
    expect(GITHUB_TOKEN_WARNING).toContain("https://docs.github.com/actions/concepts/security/github_token");
  });

  it("does nothing, and succeeds, for a fork's run and for events it does not act on", async () => {
    const run0 = world.repo.addRun(world.evalWorkflow, { head_branch: "main", head_repository: "mallory/agent", conclusion: "failure" });
    const fork = await run(await actionEnv(world, "workflow_run", workflowRunCompleted(world.repo, run0.id)));
    expect(fork.exitCode).toBe(0);
    expect(fork.output).toContain("workflow run ignored: run from a fork (mallory/agent)");
    const push = await run(await actionEnv(world, "push", { ref: "refs/heads/main", repository: { full_name: world.repo.fullName } }));
    expect(push).toMatchObject({ exitCode: 0, summary: expect.stringMatching(/^selfharness has nothing to do for push: it acts on workflow_run\.completed, issue_comment\.created and pull_request\.synchronize/) });
    expect(world.repo.pulls()).toEqual([]);
  });

  it("fails with the reason in the log and the job summary when GitHub keeps failing", async () => {
    const run0 = await world.evalRun(["build-cache", "hello-world"]);
    world.gh.fault("GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts", { status: 502 }, 100);
    const result = await run(await actionEnv(world, "workflow_run", workflowRunCompleted(world.repo, run0.id)));
    world.gh.clearFaults();
    expect(result.exitCode).toBe(1);
    expect(result.summary).toMatch(/^selfharness failed on workflow_run\.completed in octo-org\/agent: workflow run .*: .*502|Bad Gateway/);
    expect(result.output).toMatch(/^::error title=selfharness::selfharness failed on workflow_run\.completed/m);
    expect(result.summaryFile).toMatch(/^## selfharness failed\n/);
  });

  it("fails when a step logs an error and carries on: a proposal opened whose validation could not start", async () => {
    world.model.enqueue(candidatesAnswer([RETRY_FIX]));
    const runs = await world.failingEvalRuns();
    // What a personal access token meets: GitHub lets only GitHub Apps write check runs.
    world.gh.fault("POST /repos/{owner}/{repo}/check-runs", { status: 422, message: "Resource not accessible by personal access token" }, 5);
    const result = await run(await actionEnv(world, "workflow_run", workflowRunCompleted(world.repo, runs[2]!)));
    world.gh.clearFaults();
    expect(world.repo.pulls().filter((p) => p.state === "open")).toHaveLength(1);
    expect(result.exitCode).toBe(1);
    expect(result.summary).toMatch(/^selfharness failed on workflow_run\.completed in octo-org\/agent: validation could not be started .*Resource not accessible by personal access token/);
    for (const pr of world.repo.pulls()) world.merge(pr.number);
  });

  it("fails with a clear error naming the variable for a missing token or a broken event file", async () => {
    const env = await actionEnv(world, "workflow_run", {});
    await writeFile(env.GITHUB_EVENT_PATH!, "{ not json");
    const broken = await run(env);
    expect(broken.exitCode).toBe(1);
    expect(broken.summary).toMatch(new RegExp(`^selfharness cannot start: GITHUB_EVENT_PATH \\(${env.GITHUB_EVENT_PATH!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\) is not JSON: `));
    const noToken = await run({ ...env, INPUT_TOKEN: "" });
    expect(noToken.summary).toMatch(/^selfharness cannot start: the `token` input is empty: give a GitHub App installation token \(actions\/create-github-app-token\) or a personal access token/);
  });

  it("fails at start, naming the variable, for a job deadline that is not a number of seconds", async () => {
    const run0 = await world.evalRun(["hello-world"]);
    const env = await actionEnv(world, "workflow_run", workflowRunCompleted(world.repo, run0.id));
    const pulls = world.repo.pulls().length;
    const result = await run({ ...env, SELFHARNESS_JOB_DEADLINE_SECONDS: "an hour" });
    expect([result.exitCode, result.summary]).toEqual([1, 'selfharness cannot start: SELFHARNESS_JOB_DEADLINE_SECONDS must be a whole number from 1 to 86400 (got "an hour")']);
    expect(world.repo.pulls()).toHaveLength(pulls);
  });
});
