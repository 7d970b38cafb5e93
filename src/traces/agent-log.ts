import { clip, clipTail, OUTPUT_LIMIT, TEXT_LIMIT } from "./limits.js";
import { textOfBytes } from "./files.js";
import { readCapture, terminalLines, type CaptureLines } from "./terminal.js";
import { PROMPT, stepsFromPane } from "./transcript.js";
import type { Step } from "./types.js";

/**
 * An installed agent's own log, as Terminal-Bench 1 keeps it in `sessions/agent.log` (the tmux pipe
 * of the agent's terminal): the installer's output, the launch line, then whatever the agent printed.
 * Known agents print their steps in a recognisable form; an unknown agent's log is read as a shell
 * session. Formats checked against mini-swe-agent 1.8 (its rich console transcript: "mini-swe-agent
 * (step N, $cost):", THOUGHT, one ```bash block, "User:" and the observation) and OpenHands 0.x
 * (`HH:MM:SS - ACTION` / `OBSERVATION` blocks and "Setting agent(...) state from AgentState.X to
 * AgentState.Y" lines).
 */
export interface AgentLog {
  kind: "mini-swe-agent" | "openhands" | "unknown";
  steps: Step[];
  /** The launch line was found in the log. */
  launched: boolean;
  /** What printed before the launch (the installer), tail-bounded. */
  preamble: string;
  /** What printed after the launch when the agent took no step (a start-up crash), tail-bounded. */
  startup: string;
  /** The agent declared completion itself (a submit command, a finish action). */
  submitted: boolean;
  /** The log ends while the agent was still working (a command without its result, no final prompt). */
  cutOff: boolean;
  /** Why the agent's run ended, in plain words, when the log says. */
  stopReason?: string;
  /** Provider errors seen after the launch; `final` when nothing the agent did follows them. */
  providerErrors: { line: string; final: boolean }[];
  /** Parts of the log that could not be read as steps. */
  problems: string[];
}

/** A shell prompt followed by what was typed at it. */
const KNOWN_LAUNCHERS = /^(?:mini|mini-swe-agent|openhands|python3? -m openhands\b)/;
const MINI_STEP = /^[\w.-]+ \(step (\d+)(?:, [^)]{0,40})?\):$/;
const OPENHANDS_BLOCK = /^\d\d:\d\d:\d\d - (ACTION|OBSERVATION|USER_ACTION)$/;
const OPENHANDS_LOG = /^\d\d:\d\d:\d\d - [\w.]+:(?:INFO|WARNING|ERROR|DEBUG|CRITICAL)/;
const OPENHANDS_STATE = /Setting agent\(\w+\) state from AgentState\.(\w+) to AgentState\.(\w+)/;
const SUBMIT_COMMAND = /\b(?:COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT|MINI_SWE_AGENT_FINAL_OUTPUT)\b/;
/**
 * Errors of the model provider as client libraries print them (rate limits, overload, outages,
 * exhausted quota). Only library error names and codes count: an agent's own words about "rate
 * limiting" (an nginx task) or a traceback line number 429 must not.
 */
export const PROVIDER_ERROR = /\b(?:RateLimitError|APIConnectionError|ServiceUnavailableError|InternalServerError|APITimeoutError)\b|overloaded_error|insufficient_quota|AgentState\.RATE_LIMITED|Error code: (?:429|529|503)\b|status(?:_code)?[=: ]+(?:429|529)\b/;
/** A line that reports an error: cheap checks, as the line may be megabytes of hostile text. */
function isErrorLine(line: string): boolean {
  return line.includes("No such file or directory") || line.trimEnd().endsWith(": command not found") || /\b[A-Z]\w*(?:Error|Exception)\b/.test(line);
}
// Matched on a trimmed line: no trailing `\s*`, which would backtrack quadratically on "```  …  x y".
const FENCE = /^```\s*([\w-]*)$/;
/** mini-swe-agent runs only ```bash blocks; a bare ``` closes a block and opens none. */
const SHELL_FENCE = /^(?:bash|sh|shell)$/;
/** Most lines kept per step part: a step's thought or output beyond this is clipped anyway. */
const PART_LINES = 400;

/** A step part kept bounded: its first lines, and its last lines in a ring, with a count of those dropped. */
interface Collected {
  head: string[];
  tail: string[];
  next: number;
  dropped: number;
}

const HALF = PART_LINES / 2;
const part = (): Collected => ({ head: [], tail: [], next: 0, dropped: 0 });

function collect(into: Collected, line: string): void {
  if (into.head.length < HALF) into.head.push(line);
  else if (into.tail.length < HALF) into.tail.push(line);
  else {
    // The tail is a ring: the oldest of its lines gives way, in constant time.
    into.tail[into.next] = line;
    into.next = (into.next + 1) % HALF;
    into.dropped++;
  }
}

/** A part's lines in order, with a line counting those dropped from its middle. */
function partLines(from: Collected): string[] {
  const tail = [...from.tail.slice(from.next), ...from.tail.slice(0, from.next)];
  return [...from.head, ...(from.dropped > 0 ? [`[${from.dropped} lines omitted]`] : []), ...tail];
}

function joined(from: Collected): string {
  return partLines(from).join("\n");
}

/** A prompt line has an `@`: one native search skips the regex on nearly every line. */
const isPrompt = (line: string) => line.includes("@") && PROMPT.test(line);

/** The line index of the launch: a prompt at which the agent's executable (or a known agent) was typed. */
function findLaunch(lines: string[], executable: string | undefined): number {
  for (let i = 0; i < lines.length; i++) {
    const prompt = lines[i]!.includes("@") ? PROMPT.exec(lines[i]!) : null;
    if (!prompt) continue;
    const typed = prompt[1]!.trim();
    const word = typed.split(/\s+/)[0]?.split("/").pop() ?? "";
    if ((executable !== undefined && word === executable) || KNOWN_LAUNCHERS.test(typed)) return i;
  }
  return -1;
}

/**
 * Where the launch line starts in the log's bytes, found without decoding the log: the first line that
 * holds an `@` (every prompt does) followed by the executable (a known launcher's name when there is
 * none) and, decoded and cleaned on its own, is a launch. -1 when no line is. A launch whose first
 * word an escape sequence splits is missed here; the caller then reads the whole log. The search goes
 * from one `@` to the next: a rare byte is found far faster than a word.
 */
function rawLaunch(bytes: Buffer, executable: string | undefined): number {
  const words = (executable ? [executable] : ["mini", "openhands"]).map((word) => Buffer.from(word));
  for (let from = 0; ; ) {
    const at = bytes.indexOf(AT, from);
    if (at === -1) return -1;
    // Within the line: a search back past its start would make the scan quadratic.
    const start = at === 0 ? 0 : bytes.lastIndexOf(NEWLINE, at - 1) + 1;
    const newline = bytes.indexOf(NEWLINE, at);
    const end = newline === -1 ? bytes.length : newline;
    const line = bytes.subarray(start, end);
    if (words.some((word) => line.indexOf(word, at - start) !== -1) && findLaunch(terminalLines(textOfBytes(line)).lines, executable) !== -1) return start;
    from = end + 1;
  }
}

const AT = 0x40;
const NEWLINE = 0x0a;

/**
 * Bytes read before the launch at first. An installer's output is most of a real log (45 to 100% of
 * each mini-swe-agent log in the Terminal-Bench 1 sample, about 80% at the median) and only its last
 * OUTPUT_LIMIT characters are kept, so the log is decoded and read from a window before the launch,
 * widened while what it yields before the launch falls short of that. A line break is never part of a
 * multi-byte character, so a window that starts after one decodes as the whole log does.
 */
const PREAMBLE_WINDOW = 4 * OUTPUT_LIMIT;

/**
 * The log read into lines, and the index of the launch line (-1: none) and of the first line the
 * preamble may show: the whole log when the launch is not found in its bytes, else from a line start
 * before it. The window's first line is never shown: an escape or a wrapped line may have begun
 * before it. Rules in the unread installer output do not count toward the console width: the
 * agent's own rules set it.
 */
function readAroundLaunch(bytes: Buffer, executable: string | undefined): { capture: CaptureLines; launch: number; first: number } {
  const at = rawLaunch(bytes, executable);
  for (let window = PREAMBLE_WINDOW; at > window; window *= 4) {
    const from = bytes.lastIndexOf(NEWLINE, at - window) + 1;
    if (from === 0) break;
    const capture = readCapture(textOfBytes(bytes.subarray(from)));
    const launch = findLaunch(capture.lines, executable);
    if (launch === -1) break;
    let shown = 0;
    for (let i = 1; i < launch && shown <= OUTPUT_LIMIT; i++) shown += capture.lines[i]!.length + 1;
    if (shown > OUTPUT_LIMIT) return { capture, launch, first: 1 };
  }
  const capture = readCapture(textOfBytes(bytes));
  return { capture, launch: findLaunch(capture.lines, executable), first: 0 };
}

/** The agent a launch line starts, when its launcher is a known one. */
function kindOfLauncher(line: string): AgentLog["kind"] {
  const typed = PROMPT.exec(line)?.[1]?.trim() ?? "";
  if (/^(?:\S*\/)?mini(?:-swe-agent)?\s/.test(typed)) return "mini-swe-agent";
  if (/^(?:\S*\/)?openhands\s|^python3? -m openhands\b/.test(typed)) return "openhands";
  return "unknown";
}

/** Shell commands in the fenced blocks of an agent message (its lines), and the message without them. */
function splitMessage(lines: string[]): { thought: string; commands: string[] } {
  const thought: string[] = [];
  const commands: string[] = [];
  let block: string[] | undefined;
  for (const line of lines) {
    const fence = line.includes("```") ? FENCE.exec(line.trim()) : null;
    if (block === undefined) {
      if (fence && SHELL_FENCE.test(fence[1]!)) block = [];
      else thought.push(line);
    } else if (fence) {
      const command = block.join("\n").trim();
      if (command) commands.push(command);
      block = undefined;
    } else block.push(line);
  }
  // An unclosed block at the end is what the agent was typing when the log stopped.
  if (block && block.join("").trim()) commands.push(block.join("\n").trim());
  return { thought: thought.join("\n").trim(), commands };
}

interface Observation {
  output: string;
  exitCode?: number;
  error?: string;
  timedOut?: boolean;
  rejected?: boolean;
}

/** mini-swe-agent's markup around a command's output (every form starts with `<`), tried where a `<` stands. */
const OBSERVATION_MARKUP = /<returncode>\s*-?\d+\s*<\/returncode>|<\/?(?:output|output_head|output_tail|warning|elided_chars)>/y;

/**
 * The text without mini-swe-agent's markup: each `<` found by a native search and the markup cut
 * there, as a global replace would (its matches all start at a `<`), without a regex stepping
 * through the output between them.
 */
function withoutMarkup(text: string): string {
  const kept: string[] = [];
  let from = 0;
  for (let at = text.indexOf("<"); at !== -1; at = text.indexOf("<", at + 1)) {
    OBSERVATION_MARKUP.lastIndex = at;
    if (!OBSERVATION_MARKUP.test(text)) continue;
    kept.push(text.slice(from, at));
    from = OBSERVATION_MARKUP.lastIndex;
    at = from - 1;
  }
  if (from === 0) return text;
  kept.push(text.slice(from));
  return kept.join("");
}
const REJECTED = /provide EXACTLY ONE action|format_error|Your (?:last )?(?:output|response) (?:was|is) not in the (?:correct|expected) format/i;

function readObservation(text: string): Observation {
  const code = /<returncode>\s*(-?\d+)\s*<\/returncode>/.exec(text);
  const output = withoutMarkup(text).trim();
  const observation: Observation = { output: clip(output, OUTPUT_LIMIT) };
  if (code) observation.exitCode = Number(code[1]);
  if (text.includes("timed out and has been killed")) {
    observation.timedOut = true;
    observation.error = "the command timed out and was killed by the harness";
  } else if (!code && REJECTED.test(text)) {
    // The harness's answer to a reply it could not read stands in for an output, with no return
    // code; an output that ran and merely prints such words is not a rejection.
    observation.rejected = true;
    observation.error = `the harness rejected the response: ${text.split("\n").find((l) => l.trim())?.trim().slice(0, 200) ?? ""}`;
  }
  return observation;
}

interface RawStep {
  said: Collected;
  observed: Collected;
  seenObservation: boolean;
}

function readMini(lines: string[], start: number): Pick<AgentLog, "steps" | "submitted" | "cutOff" | "stopReason" | "problems"> {
  const raw: RawStep[] = [];
  let current: RawStep | undefined;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    // Every step header ends in "):", and the observation's header is the line "User:": a native
    // comparison rules out nearly every line before the regex.
    if (line.endsWith("):") && MINI_STEP.test(line)) {
      current = { said: part(), observed: part(), seenObservation: false };
      raw.push(current);
    } else if (current && !current.seenObservation && line === "User:") current.seenObservation = true;
    else if (current) collect(current.seenObservation ? current.observed : current.said, line);
  }
  const steps: Step[] = [];
  let submitted = false;
  let stopReason: string | undefined;
  for (const [n, step] of raw.entries()) {
    const { thought, commands } = splitMessage(partLines(step.said));
    const observed = partLines(step.observed);
    // After the last step the shell prompt comes back: that is the harness, not the agent's output.
    const promptAt = observed.findIndex(isPrompt);
    const observation = readObservation((promptAt === -1 ? observed : observed.slice(0, promptAt)).join("\n"));
    const agent: Step = { index: steps.length, source: "agent" };
    if (thought) agent.text = clip(thought, TEXT_LIMIT);
    // A rejected reply submitted nothing either, whatever its blocks said.
    const isSubmit = !observation.rejected && commands.some((c) => SUBMIT_COMMAND.test(c));
    // A rejected reply ran nothing: its blocks are not commands (an empty list says so to later readers).
    agent.calls = observation.rejected ? [] : commands.map((command) => ({ name: "bash", args: { command: clip(command, TEXT_LIMIT) }, command: clip(command, TEXT_LIMIT) }));
    steps.push(agent);
    if (isSubmit) {
      submitted = true;
      stopReason = "submitted";
      continue;
    }
    if (!step.seenObservation) {
      // The last step's command never came back: the run ended while it was running.
      if (n === raw.length - 1 && commands.length > 0) stopReason = "cut off while a command was running";
      continue;
    }
    const tool: Step = { index: steps.length, source: "tool", output: observation.output };
    if (observation.exitCode !== undefined) tool.exitCode = observation.exitCode;
    if (observation.error) tool.error = observation.error;
    if (observation.timedOut) tool.timedOut = true;
    steps.push(tool);
  }
  const tail = lines.slice(-40).join("\n");
  if (!submitted && /LimitsExceeded|step limit|cost limit/i.test(tail)) stopReason = "step or cost limit reached";
  const cutOff = !submitted && stopReason !== "step or cost limit reached";
  if (cutOff && stopReason === undefined) stopReason = "ended without submitting";
  return { steps, submitted, cutOff, ...(stopReason ? { stopReason } : {}), problems: [] };
}

const OPENHANDS_STOP: Record<string, string> = {
  FINISHED: "finished",
  REJECTED: "rejected the task",
  ERROR: "error",
  RATE_LIMITED: "rate limited by the model provider",
  STOPPED: "stopped",
  AWAITING_USER_INPUT: "waiting for user input",
  PAUSED: "paused",
};

/** One OpenHands action block: its `THOUGHT:`, `COMMAND:` or `CONTENT:` sections, line by line. */
function openHandsAction(index: number, header: string, body: string[]): Step {
  const sections: Record<string, string[]> = { THOUGHT: [], COMMAND: [], CONTENT: [], OTHER: [] };
  let section = "OTHER";
  for (const line of body) {
    const label = /^(THOUGHT|COMMAND|CONTENT):\s?(.*)$/.exec(line);
    if (label) {
      section = label[1]!;
      if (label[2]) sections[section]!.push(label[2]);
    } else sections[section]!.push(line);
  }
  const step: Step = { index, source: "agent" };
  const text = (sections.THOUGHT!.join("\n").trim() || sections.CONTENT!.join("\n").trim());
  if (text) step.text = clip(text, TEXT_LIMIT);
  const command = sections.COMMAND!.join("\n").trim();
  const action = /\*\*(\w+)/.exec(header)?.[1] ?? "Action";
  if (command) step.calls = [{ name: "bash", args: { command: clip(command, TEXT_LIMIT) }, command: clip(command, TEXT_LIMIT) }];
  else if (!action.includes("MessageAction")) step.calls = [{ name: action, args: clip(sections.OTHER!.join("\n").trim(), TEXT_LIMIT) }];
  return step;
}

function readOpenHands(lines: string[], start: number): Pick<AgentLog, "steps" | "submitted" | "cutOff" | "stopReason" | "problems"> {
  const steps: Step[] = [];
  let block: { kind: string; body: Collected } | undefined;
  let lastState: string | undefined;
  let stuck = false;
  let maxIterations = false;
  let lastError: string | undefined;
  const flush = () => {
    if (!block) return;
    const [header = "", ...rest] = joined(block.body).split("\n");
    if (block.kind === "ACTION") steps.push(openHandsAction(steps.length, header, rest));
    else if (block.kind === "OBSERVATION") {
      const step: Step = { index: steps.length, source: "tool", output: clip(rest.join("\n").trim(), OUTPUT_LIMIT) };
      const code = /exit code=(-?\d+)/.exec(header);
      if (code) step.exitCode = Number(code[1]);
      if (header.includes("ErrorObservation")) step.error = clip(step.output ?? "", 300);
      steps.push(step);
    }
    block = undefined;
  };
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    const blockStart = OPENHANDS_BLOCK.exec(line);
    if (blockStart) {
      flush();
      block = { kind: blockStart[1]!, body: part() };
      continue;
    }
    const state = OPENHANDS_STATE.exec(line);
    if (state) lastState = state[2];
    if (/AgentStuckInLoopError|stuck in a loop/i.test(line)) stuck = true;
    if (/maximum iteration|max_iterations|MaxIterationsExceeded/i.test(line)) maxIterations = true;
    if (/ERROR|Error:/.test(line)) lastError = line.trim().slice(0, 200);
    if (OPENHANDS_LOG.test(line)) {
      flush();
      continue;
    }
    if (block) collect(block.body, line);
  }
  flush();
  let stopReason = stuck ? "stuck in a loop" : maxIterations ? "maximum iterations reached" : lastState ? OPENHANDS_STOP[lastState] ?? lastState.toLowerCase() : undefined;
  if (stopReason === "error" && lastError) stopReason = `error: ${lastError}`;
  const submitted = lastState === "FINISHED";
  const cutOff = !stuck && !maxIterations && (lastState === undefined || lastState === "RUNNING");
  if (cutOff) stopReason = "ended without a final state";
  return { steps, submitted, cutOff, ...(stopReason ? { stopReason } : {}), problems: [] };
}

/**
 * Reads an installed agent's log (its bytes, as a file holds them) into steps. `executable` is the
 * agent's launch command (from commands.txt) when known. Never throws; what cannot be read as steps
 * is kept as preamble or start-up text, or named in `problems`.
 */
export function readAgentLog(raw: Buffer | string, executable?: string): AgentLog {
  const { capture, launch, first } = readAroundLaunch(typeof raw === "string" ? Buffer.from(raw) : raw, executable);
  const lines = capture.lines;
  const preamble = clipTail((launch === -1 ? lines : lines.slice(first, launch)).join("\n"), OUTPUT_LIMIT);
  const base: AgentLog = { kind: "unknown", steps: [], launched: launch !== -1, preamble, startup: "", submitted: false, cutOff: false, providerErrors: [], problems: [] };
  if (launch === -1) {
    base.problems.push(executable ? `the launch of ${executable} never appears in the log` : "no agent launch found in the log");
    return base;
  }
  const after = lines.slice(launch + 1);
  let kind = kindOfLauncher(lines[launch]!);
  for (const line of kind === "unknown" ? after : []) {
    if (line.endsWith("):") && MINI_STEP.test(line)) {
      kind = "mini-swe-agent";
      break;
    }
    if (OPENHANDS_BLOCK.test(line) || OPENHANDS_STATE.test(line)) {
      kind = "openhands";
      break;
    }
  }
  const read = kind === "mini-swe-agent" ? readMini(lines, launch + 1) : kind === "openhands" ? readOpenHands(lines, launch + 1) : undefined;
  const log: AgentLog = { ...base, kind, ...(read ?? {}) };
  if (!read) {
    // An unknown agent: its terminal session is the best record there is.
    log.steps = stepsFromPane(after.join("\n"));
    if (log.steps.length === 0) log.problems.push("the agent's output after its launch has no recognisable steps");
  }
  if (!log.steps.some((s) => s.source === "agent")) log.startup = clipTail(after.join("\n").trim(), OUTPUT_LIMIT);
  log.providerErrors = providerErrors(after, log.submitted, capture.mayHold(PROVIDER_MARKS, launch + 1).map((i) => i - launch - 1));
  if (kind !== "unknown" && !log.steps.some((s) => s.source === "agent")) {
    const crash = [...after].reverse().find(isErrorLine);
    if (crash) log.stopReason = /command not found|No such file or directory/.test(crash) ? `never started: ${crash.trim().slice(0, 200)}` : `crashed before its first step: ${crash.trim().slice(0, 200)}`;
  }
  return log;
}

/** Words every PROVIDER_ERROR match contains: a line with none of them is skipped without the regex. */
const PROVIDER_WORDS = ["Error", "_error", "_quota", "RATE_LIMITED", "status"];
/**
 * Literals every PROVIDER_ERROR match contains, searched for in the whole capture to find the lines
 * worth a look: a status error holds its code, and "429" or "529" is far rarer in a log than "status".
 */
const PROVIDER_MARKS = ["Error", "_error", "_quota", "RATE_LIMITED", "429", "529"];

/**
 * Provider errors after the launch; the ones after the agent's last step ended its run. `candidates`
 * are the indices of the lines that may hold one of PROVIDER_MARKS (searched in the capture, not
 * line by line): no other line can hold an error.
 */
function providerErrors(after: string[], submitted: boolean, candidates: number[]): AgentLog["providerErrors"] {
  const found: AgentLog["providerErrors"] = [];
  let lastStepLine = after.length - 1;
  while (lastStepLine >= 0 && !MINI_STEP.test(after[lastStepLine]!) && !OPENHANDS_BLOCK.test(after[lastStepLine]!)) lastStepLine--;
  for (let c = 0; c < candidates.length && found.length < 20; c++) {
    const i = candidates[c]!;
    const line = after[i]!;
    if (!PROVIDER_WORDS.some((word) => line.includes(word)) || !PROVIDER_ERROR.test(line)) continue;
    // A retry line says the run went on; an error after the last step with no submission ended it.
    const final = !submitted && i > lastStepLine && !/Retrying|retry in|will retry/i.test(line);
    found.push({ line: line.trim().slice(0, 200), final });
  }
  return found;
}
