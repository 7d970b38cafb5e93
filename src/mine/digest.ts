import type { Trial } from "../traces/types.js";
import { terminalText } from "../traces/terminal.js";
import { oneLine, traceOf } from "./actions.js";
import { cut, fence } from "./excerpt.js";
import { failedTests, summaryLines, testMessage } from "./verifier.js";

/** Time used against the limit, and why the run ended, in plain words. */
export function runFacts(trial: Trial): string {
  const { agentSeconds, limitSeconds } = trial.duration ?? {};
  const time =
    agentSeconds !== undefined && limitSeconds !== undefined
      ? `ran ${Math.round(agentSeconds)} s of its ${Math.round(limitSeconds)} s limit`
      : agentSeconds !== undefined
        ? `ran ${Math.round(agentSeconds)} s (limit not recorded)`
        : limitSeconds !== undefined
          ? `time used not recorded (limit ${Math.round(limitSeconds)} s)`
          : "time not recorded";
  const stop = trial.stopReason ? `stopped: ${oneLine(terminalText(trial.stopReason), 160)}` : "stop reason not recorded";
  const label = trial.failureMode && trial.failureMode !== trial.stopReason ? `; harness label ${trial.failureMode}` : "";
  const tokens = trial.tokens?.output !== undefined && trial.tokens.output > 0 ? `; ${trial.tokens.output} output tokens` : "";
  return `${time}; ${stop}${label}${tokens}`;
}

const DIGEST_CHARS = 6000;
const DIGEST_ACTIONS = 30;

/** The agent's commands in order, one line each with how they ended, the last ones kept. */
export function actionDigest(trial: Trial, max = DIGEST_ACTIONS): string {
  const { actions, texts } = traceOf(trial);
  if (actions.length === 0 && texts.length === 0) return "(no record of the agent's actions)";
  const shown = actions.slice(-max);
  const lines = shown.map((a) => {
    const end = a.timedOut ? "killed at the time limit" : a.exitCode !== undefined ? `exit ${a.exitCode}` : a.failed ? "failed" : "ok";
    const said = a.failed && (a.error || a.output) ? `: ${oneLine(terminalText(a.error ?? a.output.slice(-200)), 120)}` : "";
    return `#${a.step} $ ${oneLine(terminalText(a.command), 160)} -> ${end}${said}`;
  });
  if (actions.length > shown.length) lines.unshift(`(${actions.length - shown.length} earlier commands omitted)`);
  const last = texts[texts.length - 1];
  if (last) lines.push(`Last message: ${oneLine(terminalText(last.text), 400)}`);
  return lines.join("\n");
}

/** A short, bounded digest of one failed trial for the model: instruction, run facts, verifier, actions. */
export function trialDigest(trial: Trial): string {
  const shown = failedTests(trial).slice(0, 5);
  const lines = shown.some((t) => !t.message) ? summaryLines(trial) : [];
  const tests = shown.map((t) => `- ${t.name}: ${cut(terminalText(testMessage(trial, t, lines) ?? "(no message)"), 300)}`).join("\n");
  const body = [
    `Instruction (head):\n${cut(terminalText(trial.instruction ?? "(not recorded)"), 1200, 0.9)}`,
    `Run: ${runFacts(trial)}`,
    `Failure mode reported by the harness: ${trial.failureMode ?? "none"}`,
    `Failed tests:\n${tests || "(none reported)"}`,
    `Verifier output (tail):\n${cut(terminalText(trial.verifierOutput ?? "").slice(-1500), 1200) || "(none)"}`,
    `What the agent did:\n${actionDigest(trial)}`,
  ].join("\n\n");
  return fence(cut(body, DIGEST_CHARS));
}
