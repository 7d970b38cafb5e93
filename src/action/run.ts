/**
 * The GitHub Action: the app's loop for the one event that started the workflow, with no server.
 *
 * The event file GitHub Actions writes (GITHUB_EVENT_PATH) is the webhook payload the app would get,
 * so the Action hands it to the app's own handlers through Probot's `receive`, authenticated with the
 * `token` input, and waits for the work to finish. The state is kept on GitHub exactly as the app
 * keeps it (pull request bodies, labels, checks), so the Action and the app can take over from each
 * other. Exit code 1 only for a real failure (work that threw, or a step that logged an error), with
 * the reason in the log and the job summary.
 */
import { appendFile, readFile, stat } from "node:fs/promises";
import { Probot, type ProbotOctokit } from "probot";
import { handledEvents, registerHandlers } from "../github/app.js";
import { jobDeadlineMs } from "../github/runtime/deadline.js";
import { queueLimits } from "../github/runtime/queue.js";
import type { AppLogin } from "../github/identity.js";
import { deliver, describeFailures } from "../github/runtime/deliver.js";
import { fence } from "../mine/excerpt.js";
import { actionsLog, escapeData, type ActionLine } from "./log.js";

/** GitHub caps a webhook payload at 25 MB; an event file larger than that is not GitHub's. */
const MAX_EVENT_BYTES = 25 * 1024 * 1024;

export const GITHUB_TOKEN_WARNING =
  "The `token` input is this workflow's GITHUB_TOKEN. GitHub starts no workflow for what that token does, except workflow_dispatch and repository_dispatch " +
  "(https://docs.github.com/actions/concepts/security/github_token): the proposal's pull request and its pushes would run none of your pull_request or push " +
  "workflows (no checks on it, no auto-merge), and many repositories do not let that token open pull requests at all. Give the Action a GitHub App " +
  "installation token (actions/create-github-app-token) or a personal access token; see docs/action.md.";

export interface ActionOptions {
  env: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  /** The Octokit class for GitHub calls (Probot's, with its retries and throttling, by default). */
  Octokit?: typeof ProbotOctokit;
}

export interface ActionResult {
  exitCode: 0 | 1;
  /** What happened, in one line (also the job summary's headline). */
  summary: string;
  lines: ActionLine[];
}

class ActionInputError extends Error {}

/** An input as GitHub Actions passes it: `INPUT_<NAME>` in upper case, spaces as underscores. */
export function input(env: NodeJS.ProcessEnv, name: string): string {
  return (env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] ?? "").trim();
}

export async function runAction(options: ActionOptions): Promise<ActionResult> {
  const { env } = options;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const { log, lines } = actionsLog(write);
  const finish = async (exitCode: 0 | 1, summary: string): Promise<ActionResult> => {
    if (exitCode === 1) write(`::error title=selfharness::${escapeData(summary)}\n`);
    else write(`${summary}\n`);
    await writeSummary(env, exitCode, summary, lines).catch((error: unknown) => log.warn({ err: String(error) }, "job summary not written"));
    return { exitCode, summary, lines };
  };

  let event: { name: string; payload: Record<string, unknown> };
  let token: string;
  try {
    token = input(env, "token");
    if (!token) throw new ActionInputError("the `token` input is empty: give a GitHub App installation token (actions/create-github-app-token) or a personal access token; see docs/action.md");
    write(`::add-mask::${token}\n`);
    if (token === input(env, "github-token")) log.warn(GITHUB_TOKEN_WARNING);
    event = await readEvent(env);
  } catch (error) {
    if (error instanceof ActionInputError) return finish(1, `selfharness cannot start: ${error.message}`);
    throw error;
  }
  applyModelInputs(env);
  // The app and the Action seal proposal state with one shared key.
  const stateKey = input(env, "state-key");
  if (!stateKey) return finish(1, "selfharness cannot start: the `state-key` input is empty: give the secret that seals proposal state (the app's SELFHARNESS_STATE_KEY, if an app also serves this repository); see docs/action.md");
  process.env.SELFHARNESS_STATE_KEY = stateKey;
  write(`::add-mask::${stateKey}\n`);
  try {
    queueLimits.deadlineMs = jobDeadlineMs(env);
  } catch (error) {
    return finish(1, `selfharness cannot start: ${error instanceof Error ? error.message : String(error)}`);
  }

  const action = typeof event.payload.action === "string" ? event.payload.action : null;
  const what = action ? `${event.name}.${action}` : event.name;
  const repository = env.GITHUB_REPOSITORY ?? (event.payload.repository as { full_name?: string } | undefined)?.full_name ?? "the repository";
  if (!handledEvents(registerHandlers)(event.name, action)) {
    return finish(0, `selfharness has nothing to do for ${what}: it acts on workflow_run.completed, issue_comment.created and pull_request.synchronize (docs/action.md).`);
  }
  if (event.name === "issue_comment" && isOwnComment(event.payload)) {
    // With a personal access token the Action's comments are a person's and would trigger it again.
    return finish(0, "selfharness ignores its own comment.");
  }

  const probot = new Probot({ githubToken: token, baseUrl: env.GITHUB_API_URL || "https://api.github.com", log, ...(options.Octokit ? { Octokit: options.Octokit } : {}) });
  await probot.load((app: Probot) => registerHandlers(app, tokenLogin(app, input(env, "app-slug"))));
  const id = `actions-${env.GITHUB_RUN_ID ?? "local"}-${env.GITHUB_RUN_ATTEMPT ?? "1"}`;
  try {
    const outcome = await deliver(probot, { id, name: event.name, payload: event.payload });
    if (outcome.failures.length > 0) return finish(1, `selfharness failed on ${what} in ${repository}: ${describeFailures(outcome)}`);
    // Some steps log an error and carry on (a proposal whose validation could not start, a proposer
    // that failed): for a run that exists to do this one event, that is a failure too.
    const errors = lines.filter((l) => l.level === "error");
    if (errors.length > 0) return finish(1, `selfharness failed on ${what} in ${repository}: ${errors.map((l) => (l.detail ? `${l.msg} ${l.detail}` : l.msg)).join("; ")}`);
    return finish(0, `selfharness handled ${what} in ${repository}${outcome.jobs === 0 ? " (nothing to do for it)" : ""}.`);
  } catch (error) {
    return finish(1, `selfharness failed on ${what} in ${repository}: ${errorMessage(error)}`);
  }
}

/**
 * Who the token acts as, which is who opened the proposals and the dashboard: `<slug>[bot]` for a GitHub
 * App installation token (which cannot ask GitHub who it is), else the personal access token's user.
 */
function tokenLogin(app: Probot, slug: string): AppLogin {
  if (slug) return async () => `${slug}[bot]`;
  let pending: Promise<string> | null = null;
  return () => {
    pending ??= (async () => {
      const octokit = await app.auth();
      try {
        return (await octokit.rest.users.getAuthenticated()).data.login;
      } catch (error) {
        throw new Error(`the token cannot say whose it is (${errorMessage(error)}): with a GitHub App installation token, give the \`app-slug\` input (docs/action.md)`);
      }
    })();
    pending.catch(() => (pending = null));
    return pending;
  };
}

async function readEvent(env: NodeJS.ProcessEnv): Promise<{ name: string; payload: Record<string, unknown> }> {
  const name = env.GITHUB_EVENT_NAME?.trim();
  const path = env.GITHUB_EVENT_PATH?.trim();
  if (!name) throw new ActionInputError("GITHUB_EVENT_NAME is not set (the Action runs inside a GitHub Actions workflow)");
  if (!path) throw new ActionInputError("GITHUB_EVENT_PATH is not set (the Action runs inside a GitHub Actions workflow)");
  const size = await stat(path).then((s) => s.size, (error: unknown) => {
    throw new ActionInputError(`GITHUB_EVENT_PATH (${path}) cannot be read: ${errorMessage(error)}`);
  });
  if (size > MAX_EVENT_BYTES) throw new ActionInputError(`GITHUB_EVENT_PATH (${path}) has ${size} bytes, over the ${MAX_EVENT_BYTES}-byte limit of a GitHub event`);
  let payload: unknown;
  try {
    payload = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new ActionInputError(`GITHUB_EVENT_PATH (${path}) is not JSON: ${errorMessage(error)}`);
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) throw new ActionInputError(`GITHUB_EVENT_PATH (${path}) does not hold a JSON object`);
  return { name, payload: payload as Record<string, unknown> };
}

/** The model's endpoint and key may come as inputs; the loop reads them from the environment. */
function applyModelInputs(env: NodeJS.ProcessEnv): void {
  const baseUrl = input(env, "openai-base-url");
  const apiKey = input(env, "openai-api-key");
  if (baseUrl) process.env.OPENAI_BASE_URL = baseUrl;
  if (apiKey) process.env.OPENAI_API_KEY = apiKey;
}

function isOwnComment(payload: Record<string, unknown>): boolean {
  const body = (payload.comment as { body?: unknown } | undefined)?.body;
  return typeof body === "string" && body.includes("<!-- selfharness:");
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The job summary: the outcome, then what the loop logged (its own messages, fenced). */
async function writeSummary(env: NodeJS.ProcessEnv, exitCode: 0 | 1, summary: string, lines: ActionLine[]): Promise<void> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  const shown = lines.filter((l) => l.level !== "debug").slice(-60);
  const log = shown.map((l) => `${l.level.padEnd(5)} ${l.msg}${l.detail ? ` ${l.detail.slice(0, 300)}` : ""}`).join("\n");
  const text = [`## selfharness ${exitCode === 0 ? "done" : "failed"}`, "", summary.replace(/[<>]/g, ""), "", ...(shown.length > 0 ? ["<details><summary>Log</summary>", "", fence(log), "", "</details>", ""] : [])].join("\n");
  await appendFile(file, text);
}
