import type { Outcome, TestResult } from "./types.js";

/** Everything a reader knows about a trial that bears on whether its verdict can be trusted. */
export interface VerdictEvidence {
  /** The verifier's reward (TB1: is_resolved as 1/0), null when there is none. */
  reward: number | null;
  tests?: TestResult[];
  /** The harness's own label: agent_timeout, parse_error, test_timeout, AgentTimeoutError, ... */
  failureMode?: string;
  /** An exception the harness recorded for the trial (Harbor `exception_info`). */
  exception?: { type: string; message?: string };
  tokens?: { input?: number; output?: number };
  /** The executable that launches the agent (first word of its launch command), when known. */
  agentCommand?: string;
  agentName?: string;
  /** What the agent's terminal or install step printed (bounded, untrusted). */
  agentOutput?: string;
  /**
   * What the verifier printed (bounded, untrusted): its text, or its bytes when they are all ASCII
   * (no NUL), searched as they are rather than decoded whole (see `lineMatching`).
   */
  verifierOutput?: string | Buffer;
  /** True when a structured trajectory shows the agent acting. */
  agentActed?: boolean;
  /**
   * How the agent's start looked in its own log: `launched` false when the harness typed the launch
   * but the log never shows it (the installer was still running); `crash` is the last error line
   * when it launched and took no step.
   */
  agentStart?: { launched: boolean; crash?: string };
  /** A model-provider error (rate limit, overload, outage) after which the agent did nothing more. */
  providerError?: string;
  /** The agent left a package manager running (killed at a timeout or backgrounded): a lock it holds is its own doing. */
  agentLeftPackageLock?: boolean;
}

export interface TrialVerdict {
  outcome: Outcome;
  reward: number | null;
  infra?: { kind: string; detail: string };
}

const ENVIRONMENT_EXCEPTION = /environment|docker|container|sandbox|daytona|modal|e2b|runloop|compose|image(pull|build)|buildError|ConnectError|ConnectionRefused/i;
const AGENT_SETUP_EXCEPTION = /agent(setup|install)/i;
/** Harbor raises plain RuntimeErrors for both; only their message tells them apart (Harbor 0.1.x trial.py). */
const ENVIRONMENT_MESSAGE = /Docker compose command failed|Environment start timed out|failed to start (?:the )?(?:environment|container|sandbox)/i;
const AGENT_SETUP_MESSAGE = /Agent setup (?:failed|timed out)/i;
/** Model-provider errors as client libraries name them; see PROVIDER_ERROR in agent-log.ts for the log form. */
const PROVIDER_EXCEPTION = /RateLimit|rate limit|Overloaded|ServiceUnavailable|APIConnectionError|insufficient_quota|\b429\b/i;

/** A pattern made of literal alternatives: a regex for text, and the words themselves for bytes. */
interface Literals {
  regex: RegExp;
  words: string[];
}

const literals = (...words: string[]): Literals => ({ regex: new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|")), words });
const DISK_FULL = literals("No space left on device");
const PACKAGE_LOCK = literals("Could not get lock /var/lib/dpkg", "Unable to acquire the dpkg frontend lock", "dpkg was interrupted");
const VERIFIER_EXCEPTION = /verifier|rewardfile/i;
const INSTALL_FAILURE = literals("error: externally-managed-environment", "E: Unable to locate package", "No matching distribution found", "npm ERR!", "INSTALL_FAILED");
/** Signs that the verifier itself could not start, most telling first. */
const BOOTSTRAP_ERRORS = [
  literals("command not found"),
  literals("ModuleNotFoundError", "No module named"),
  literals("Could not resolve host", "Temporary failure in name resolution"),
  literals("No such file or directory"),
  literals("Permission denied", "Connection refused"),
];

function firstLine(text: string | undefined): string {
  return (text ?? "").split("\n").map((l) => l.trim()).find((l) => l !== "")?.slice(0, 200) ?? "";
}

function exceptionDetail(exception: { type: string; message?: string }): string {
  const message = firstLine(exception.message);
  return message ? `${exception.type}: ${message}` : exception.type;
}

/**
 * The first line of `text` matching `pattern`, trimmed to one readable line. One search of the whole
 * text, not a split and a search per line: no word here spans a line break, so the first match lies
 * on the first matching line. ASCII bytes are searched for the words as they are, a native search
 * for each, and only the line found is decoded: the same line, since ASCII bytes are the text.
 */
function lineMatching(text: string | Buffer | undefined, pattern: Literals): string | undefined {
  if (!text || text.length === 0) return undefined;
  if (typeof text !== "string") {
    const at = Math.min(...pattern.words.map((word) => text.indexOf(word)).filter((i) => i !== -1));
    if (at === Infinity) return undefined;
    const end = text.indexOf(0x0a, at);
    return text.toString("latin1", text.lastIndexOf(0x0a, at) + 1, end === -1 ? text.length : end).trim().slice(0, 200);
  }
  const match = pattern.regex.exec(text);
  if (!match) return undefined;
  const end = text.indexOf("\n", match.index);
  return text.slice(text.lastIndexOf("\n", match.index) + 1, end === -1 ? undefined : end).trim().slice(0, 200);
}

function tokensZeroOrUnknown(tokens: VerdictEvidence["tokens"]): boolean {
  return !tokens || ((tokens.input ?? 0) === 0 && (tokens.output ?? 0) === 0);
}

/** Names under which the agent's own executable may appear in "X: command not found". */
function agentExecutables(evidence: VerdictEvidence): string[] {
  const names = new Set<string>();
  if (evidence.agentCommand) names.add(evidence.agentCommand.toLowerCase());
  for (const part of (evidence.agentName ?? "").toLowerCase().split(/[^a-z0-9]+/)) if (part.length >= 3) names.add(part);
  return [...names];
}

/** Why the agent never ran, or undefined when nothing shows that. */
function agentNeverRan(evidence: VerdictEvidence): { kind: string; detail: string } | undefined {
  const { exception } = evidence;
  if (exception && (AGENT_SETUP_EXCEPTION.test(exception.type) || AGENT_SETUP_MESSAGE.test(exception.message ?? ""))) return { kind: "agent-install", detail: exceptionDetail(exception) };
  if (evidence.agentActed || !tokensZeroOrUnknown(evidence.tokens)) return undefined;
  const installed = installFailure(evidence);
  if (installed) return { kind: "agent-install", detail: installed };
  const start = evidence.agentStart;
  if (start && !start.launched) return { kind: "agent-install", detail: "the agent's install was still running when its time ran out: the launch never ran" };
  if (start?.crash) return { kind: "agent-start", detail: `the agent ${start.crash}` };
  return undefined;
}

/** An agent install that failed, from what the install and launch printed. */
function installFailure(evidence: VerdictEvidence): string | undefined {
  const output = evidence.agentOutput ?? "";
  for (const match of output.matchAll(/(?:^|\s)([\w.+-]+): (?:command )?not found/g)) {
    if (agentExecutables(evidence).includes(match[1]!.toLowerCase())) return `${match[1]}: command not found (agent install failed, zero tokens)`;
  }
  for (const line of output.includes("No such file or directory") ? output.split("\n") : []) {
    if (!line.includes("No such file or directory")) continue;
    // The agent's launcher exists but what it runs does not (`openhands: line 2: /app/.venv/bin/python`).
    const match = /^(\S+): (?:line \d+: )?(\S+): No such file or directory/.exec(line.trim().slice(0, 500));
    const launcher = match?.[1]!.split("/").pop()!.toLowerCase();
    if (match && launcher && agentExecutables(evidence).includes(launcher)) return `${match[1]}: ${match[2]} is missing (agent install failed)`;
  }
  const install = lineMatching(output, INSTALL_FAILURE);
  if (install) return `agent install failed: ${install}`;
  return undefined;
}

function verdictFromResults(reward: number | null, tests: TestResult[] | undefined): Outcome {
  if (reward !== null) return reward >= 1 ? "pass" : "fail";
  const list = tests ?? [];
  return list.length > 0 && list.some((t) => t.status === "passed") && list.every((t) => t.status !== "failed") ? "pass" : "fail";
}

/**
 * The one place that decides pass / fail / invalid. A timeout is the agent's failure, not infra: the
 * verifier's result stands. Invalid means no trustworthy verdict: the environment never started, the
 * agent never ran, or the verifier could not run or produced nothing.
 */
export function decideVerdict(evidence: VerdictEvidence): TrialVerdict {
  const { reward, tests, failureMode, exception } = evidence;
  const hasTests = (tests?.length ?? 0) > 0;
  const hasVerdict = reward !== null || hasTests;

  if (exception && (ENVIRONMENT_EXCEPTION.test(exception.type) || ENVIRONMENT_MESSAGE.test(exception.message ?? "")) && !/agenttimeout/i.test(exception.type)) {
    const infra = { kind: "environment", detail: exceptionDetail(exception) };
    if (!hasVerdict) return { outcome: "invalid", reward, infra };
    return { outcome: verdictFromResults(reward, tests), reward, infra };
  }

  const neverRan = agentNeverRan(evidence);
  if (neverRan) return { outcome: "invalid", reward, infra: neverRan };

  const outcome = hasVerdict ? verdictFromResults(reward, tests) : undefined;
  // A pass is a pass whatever else happened; a failure after the provider or the disk gave out is not the agent's.
  if (outcome !== "pass") {
    const provider = evidence.providerError ?? (exception && PROVIDER_EXCEPTION.test(`${exception.type} ${exception.message ?? ""}`) ? exceptionDetail(exception) : undefined);
    if (provider) return { outcome: "invalid", reward, infra: { kind: "provider", detail: `the model provider failed and the run ended: ${provider.slice(0, 200)}` } };
    const disk = lineMatching(evidence.agentOutput, DISK_FULL) ?? lineMatching(evidence.verifierOutput, DISK_FULL) ?? (exception && DISK_FULL.regex.test(exception.message ?? "") ? exceptionDetail(exception) : undefined);
    if (disk) return { outcome: "invalid", reward, infra: { kind: "disk-full", detail: disk } };
  }

  if (!hasVerdict) {
    // The verifier could not install because the agent left apt running: the agent broke its own check.
    if (evidence.agentLeftPackageLock && lineMatching(evidence.verifierOutput, PACKAGE_LOCK)) {
      return { outcome: "fail", reward, infra: { kind: "agent-broke-verifier", detail: `the verifier could not take the package lock the agent left held: ${lineMatching(evidence.verifierOutput, PACKAGE_LOCK)}` } };
    }
    const verifierBroke =
      failureMode === "parse_error" || failureMode === "test_timeout" || (exception !== undefined && VERIFIER_EXCEPTION.test(exception.type));
    if (verifierBroke) {
      const timedOut = failureMode === "test_timeout" || /verifiertimeout/i.test(exception?.type ?? "");
      const bootstrap = BOOTSTRAP_ERRORS.map((p) => lineMatching(evidence.verifierOutput, p)).find((l) => l !== undefined);
      const label = failureMode ?? exception?.type ?? "verifier error";
      return {
        outcome: "invalid",
        reward,
        infra: {
          kind: timedOut ? "verifier-timeout" : "verifier",
          detail: bootstrap ? `${label}: verifier could not run: ${bootstrap}` : `${label}: verifier produced no test results`,
        },
      };
    }
    const detail = exception ? `no reward and no parsed tests (${exceptionDetail(exception)})` : "no reward and no parsed tests";
    return { outcome: "invalid", reward, infra: { kind: "no-verdict", detail } };
  }

  return { outcome: outcome ?? verdictFromResults(reward, tests), reward };
}
