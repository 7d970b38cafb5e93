import { clip, OUTPUT_LIMIT, TEXT_LIMIT } from "./limits.js";
import type { Step } from "./types.js";

/**
 * Parses one line of a Terminal-Bench `commands.txt`: a Python list literal of keystroke strings,
 * e.g. `['ls -la', 'Enter']`. Returns undefined for anything else.
 */
export function parseKeystrokeLine(line: string): string[] | undefined {
  const text = line.trim();
  if (!text.startsWith("[") || !text.endsWith("]")) return undefined;
  const out: string[] = [];
  let i = 1;
  const end = text.length - 1;
  while (i < end) {
    const c = text[i]!;
    if (c === " " || c === ",") {
      i++;
      continue;
    }
    if (c !== "'" && c !== '"') return undefined;
    let value = "";
    i++;
    while (i < end && text[i] !== c) {
      if (text[i] === "\\" && i + 1 < end) {
        const next = text[i + 1]!;
        value += next === "n" ? "\n" : next === "t" ? "\t" : next === "r" ? "\r" : next;
        i += 2;
      } else {
        value += text[i];
        i++;
      }
    }
    if (text[i] !== c) return undefined;
    out.push(value);
    i++;
  }
  return out;
}

/** Special tmux keys that are not text the agent typed. */
const TMUX_KEYS = /^(Enter|C-[a-z]|M-[a-z]|Escape|Tab|BSpace|Up|Down|Left|Right)$/;
/** Harness plumbing around the agent's own commands. */
const HARNESS_COMMAND = /^(asciinema rec|clear$|source \/installed-agent\/|bash\s+\/tests\/run-tests\.sh|tmux wait)/;

function commandOf(keys: string[]): string {
  return keys.filter((k) => !TMUX_KEYS.test(k)).join("").replace(/; tmux wait -S done$/, "").trim();
}

/** Steps from `commands.txt` (what was typed, no output). */
export function stepsFromCommands(text: string): Step[] {
  const steps: Step[] = [];
  for (const line of text.split("\n")) {
    const keys = parseKeystrokeLine(line);
    if (!keys) continue;
    const command = commandOf(keys);
    steps.push({
      index: steps.length,
      source: HARNESS_COMMAND.test(command) ? "system" : "agent",
      calls: [{ name: "keystrokes", args: keys.map((k) => clip(k, TEXT_LIMIT)), command: clip(command, TEXT_LIMIT) }],
    });
  }
  return steps;
}

/** The executable that launches the agent: the command typed right after the agent install step. */
export function agentLaunchExecutable(commandsText: string): string | undefined {
  const commands = commandsText.split("\n").map(parseKeystrokeLine).filter((k): k is string[] => k !== undefined).map(commandOf);
  const install = commands.findIndex((c) => c.includes("install-agent"));
  const launch = install >= 0 ? commands.slice(install + 1).find((c) => c !== "" && !HARNESS_COMMAND.test(c)) : undefined;
  const word = launch?.split(/\s+/)[0];
  return word ? word.split("/").pop() : undefined;
}

/** A shell prompt line (`user@host:dir# typed`), and what was typed at it. */
export const PROMPT = /^(?:\([^)]*\)\s*)?[\w.-]+@[\w.-]+:[^#$\n]*[#$] ?(.*)$/;

/** Steps from a terminal pane capture: each shell prompt starts a step, what follows is its output. */
export function stepsFromPane(text: string): Step[] {
  const steps: Step[] = [];
  let command: string | undefined;
  let output: string[] = [];
  const flush = () => {
    if (command === undefined) return;
    const body = output.join("\n").trimEnd();
    const step: Step = {
      index: steps.length,
      source: HARNESS_COMMAND.test(command) ? "system" : "agent",
      calls: [{ name: "terminal", args: { keystrokes: clip(command, TEXT_LIMIT) }, command: clip(command, TEXT_LIMIT) }],
    };
    if (body) step.output = clip(body, OUTPUT_LIMIT);
    const exitCode = exitCodeIn(body);
    if (exitCode !== undefined) step.exitCode = exitCode;
    steps.push(step);
  };
  for (const line of text.split("\n")) {
    // A prompt has an `@`: one native search spares the regex on nearly every line.
    const prompt = line.includes("@") ? PROMPT.exec(line) : null;
    if (prompt) {
      flush();
      command = prompt[1]!.replace(/; tmux wait -S done$/, "").trim();
      output = [];
      if (command === "") command = undefined;
    } else if (command !== undefined) {
      output.push(line);
    }
  }
  flush();
  return steps;
}

const EXIT_CODE_PATTERNS = [
  /\[The command completed with exit code (-?\d+)\.?\]/g,
  /<returncode>\s*(-?\d+)\s*<\/returncode>/g,
  /<exit_code>\s*(-?\d+)\s*<\/exit_code>/g,
  /(?:^|\n)\s*(?:exit code|exit status|exit_code|returncode|return code)\s*[:=]?\s*(-?\d+)\b/gi,
  /\bProcess exited with code (-?\d+)/g,
];

/**
 * "exit" and "return" without their first letter: every output holding either holds this, and the
 * search rules an output out 20% sooner (the outputs of 400 Harbor trials in the bench corpus).
 */
const EXIT_WORD = /xit|turn/i;

/** The exit code a harness printed into a tool output, when it printed one (the last one wins). */
export function exitCodeIn(output: string | undefined): number | undefined {
  if (!output) return undefined;
  // Harnesses print the code first (<returncode>) or last ("exit code 1"): the middle is never scanned.
  const long = output.length > 4096;
  const parts = long ? [output.slice(0, 512), output.slice(-2048)] : [output];
  // Every pattern holds "exit" or "return", the fourth in any case of ASCII letters: one search of
  // the head and the tail (EXIT_WORD) rules out most outputs before five regexes run. It folds case
  // as they do (no letter outside ASCII onto one inside), and makes no lower-cased copy of the
  // output, which took twice as long.
  if (!parts.some((part) => EXIT_WORD.test(part))) return undefined;
  const sample = long ? parts.join("\n") : output;
  let found: { at: number; code: number } | undefined;
  for (const pattern of EXIT_CODE_PATTERNS) {
    for (const match of sample.matchAll(pattern)) {
      const at = match.index ?? 0;
      if (!found || at >= found.at) found = { at, code: Number(match[1]) };
    }
  }
  return found?.code;
}

/** Shell words of a command line: quotes removed and adjacent parts joined, as the shell would. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  while (i < command.length) {
    const c = command[i]!;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      const stop = end === -1 ? command.length : end;
      word = (word ?? "") + command.slice(i + 1, stop);
      i = stop + 1;
    } else if (c === '"') {
      let value = "";
      i++;
      while (i < command.length && command[i] !== '"') {
        if (command[i] === "\\" && i + 1 < command.length && /["\\$`]/.test(command[i + 1]!)) i++;
        value += command[i];
        i++;
      }
      word = (word ?? "") + value;
      i++;
    } else if (c === "\\" && i + 1 < command.length) {
      word = (word ?? "") + command[i + 1];
      i += 2;
    } else if (/\s/.test(c) || c === ";" || c === "&" || c === "|") {
      if (word !== undefined) words.push(word);
      word = undefined;
      if (c !== " " && c !== "\t" && c !== "\n") break;
      i++;
    } else {
      word = (word ?? "") + c;
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

const TASK_FLAGS = new Set(["-t", "--task", "--instruction", "-i", "--prompt", "-p"]);

/** The task text passed to the agent's launch command (`mini -t '...'`, `openhands --task '...'`), when there is one. */
export function instructionFromCommands(commandsText: string): string | undefined {
  const commands = commandsText.split("\n").map(parseKeystrokeLine).filter((k): k is string[] => k !== undefined).map(commandOf);
  const install = commands.findIndex((c) => c.includes("install-agent"));
  const launch = install >= 0 ? commands.slice(install + 1).find((c) => c !== "" && !HARNESS_COMMAND.test(c)) : undefined;
  if (!launch) return undefined;
  const words = shellWords(launch);
  const at = words.findIndex((w) => TASK_FLAGS.has(w));
  return at >= 0 ? words[at + 1] : undefined;
}
