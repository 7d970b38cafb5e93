/**
 * Each parser the reading pipeline runs over trace text, fed a megabyte of input built to make a
 * backtracking pattern or a per-line rescan blow up. Linear code takes milliseconds; the bounds are
 * seconds, which a quadratic version (a megabyte squared is 10^12 steps) misses by hours.
 */
import { describe, expect, it } from "vitest";
import { readAgentLog } from "../../src/traces/agent-log.js";
import { countJsonValues } from "../../src/traces/json.js";
import { terminalLines, terminalText, unwrapLines } from "../../src/traces/terminal.js";
import { exitCodeIn, instructionFromCommands, parseKeystrokeLine, stepsFromPane } from "../../src/traces/transcript.js";
import { decideVerdict } from "../../src/traces/verdict.js";

const MB = 1024 * 1024;
const BOUND_MS = 3000;

function fast(name: string, run: () => unknown): void {
  const start = performance.now();
  run();
  expect(performance.now() - start, name).toBeLessThan(BOUND_MS);
}

/** Inputs that hurt text parsers: long runs that a pattern retries from every position. */
const ADVERSARIAL: Record<string, string> = {
  "spaces then a letter": `${" ".repeat(MB)}x`,
  "carriage returns then a letter": `${"\r".repeat(MB)}x\r`,
  "tabs and newlines": "\t \n".repeat(MB / 3),
  "escape fragments": "\x1b[".repeat(MB / 2),
  "unterminated OSC": `\x1b]${"a".repeat(MB)}`,
  "box drawing": "\u2500".repeat(MB),
  "box drawing then a letter": `${"\u2500 ".repeat(MB / 2)}x`,
  "spinner fragments": "\u280b Thinking..".repeat(MB / 14),
  "a character to clean on every line": "\u280b\n\u0007\n".repeat(MB / 4),
  "window titles across lines": "\x1b]a\n".repeat(MB / 4),
  "prompt without a prompt sign": `root@host:${"/a".repeat(MB / 2)}`,
  "parenthesis never closed": `(${"a".repeat(MB)}@b:`,
  "at signs": "@".repeat(MB),
  "fences": "```\n".repeat(MB / 4),
  "step headers without a close": "mini-swe-agent (step 1, ".repeat(MB / 24),
  "not found lines": "a: not found\n".repeat(MB / 13),
  "missing files": "x: line 2: /a: No such file or directory\n".repeat(MB / 40),
  "return codes": "<returncode>".repeat(MB / 12),
  "binary": "\ufffd\ue000".repeat(MB / 2),
  "redraws that clean to nothing": `x${"\r\u0007".repeat(MB / 2)}`,
  "prompts that name the agent but launch nothing": "root@host:/app# echo mini\n".repeat(MB / 26),
};

describe("trace text parsers stay linear on a megabyte of adversarial input", () => {
  for (const [name, text] of Object.entries(ADVERSARIAL)) {
    it(name, () => {
      fast("terminalLines", () => terminalLines(text));
      fast("terminalText", () => terminalText(text));
      fast("unwrapLines", () => unwrapLines(text.split("\n"), 80));
      fast("readAgentLog", () => readAgentLog(text, "mini"));
      fast("readAgentLog after a launch", () => readAgentLog(`root@host:/app# mini -t 'x' -y\nmini-swe-agent (step 1, $0.1):\n${text}\nUser:\n${text}`, "mini"));
      fast("stepsFromPane", () => stepsFromPane(text));
      fast("exitCodeIn", () => exitCodeIn(text));
      fast("parseKeystrokeLine", () => parseKeystrokeLine(`['${text.replace(/'/g, "")}', 'Enter']`));
      fast("instructionFromCommands", () => instructionFromCommands(`["install-agent", 'Enter']\n['mini -t "${text.slice(0, MB / 2)}"', 'Enter']`));
      fast("decideVerdict", () => decideVerdict({ reward: null, failureMode: "parse_error", agentOutput: text, verifierOutput: text, agentName: "a", agentCommand: "a" }));
    });
  }

  it("counts JSON values in one pass whatever the strings hold", () => {
    for (const text of ['"' + "\\".repeat(MB) + '"', `[${'"\\"",'.repeat(MB / 5)}0]`, "[".repeat(MB), '"'.repeat(MB)]) {
      fast("countJsonValues", () => countJsonValues(Buffer.from(text), Number.MAX_SAFE_INTEGER));
    }
  });
});
