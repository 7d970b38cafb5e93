import { laterOnLine } from "../text/lines.js";
import type { Step, Trial } from "../traces/types.js";

/** One command the agent ran and what came back, whatever the trace format. */
export interface Action {
  /** Index (`Step.index`) of the step that issued the command. */
  step: number;
  /** The command as issued, or `<tool name> <args>` for a non-shell tool call. */
  command: string;
  /** Normalised form: whitespace collapsed, quotes and trailing keystrokes removed. */
  key: string;
  /** Tool name when the call was not a shell command. */
  tool?: string;
  args?: unknown;
  output: string;
  exitCode?: number;
  error?: string;
  failed: boolean;
  /** The harness killed the command at its time limit. */
  timedOut?: boolean;
}

/** Agent messages that come with no tool call (final answers, plans). */
export interface AgentText {
  step: number;
  text: string;
}

const FENCED_SHELL = /```(?:bash|sh|shell|console)?[ \t]*\r?\n([\s\S]*?)```/g;
const RETURN_CODE = /<returncode>\s*(-?\d+)\s*<\/returncode>/;
// When a trace has no exit codes (terminal panes), the output is the only sign that a command failed.
const FAILURE_TEXT = /(?:command not found|No such file or directory|^Traceback \(most recent call last\)|^\w*Error:|^E: |^fatal: |Permission denied|Segmentation fault)/m;
/**
 * A literal each FAILURE_TEXT alternative holds: native searches rule out most outputs before the regex
 * steps through them. "fatal:" without its space: a search for a long word skips ahead by its last
 * character, and one ending in a space stops at every space (45 ms against 28 over the outputs of the
 * Harbor bench corpus).
 */
const FAILURE_WORDS = ["command not found", "No such file or directory", "Traceback (most recent call last)", "Error:", "E: ", "fatal:", "Permission denied", "Segmentation fault"];

export function normalizeCommand(command: string): string {
  return command
    .replace(/\b(?:Enter|C-m)\s*$/u, "")
    .replace(/['"]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

function commandsOfText(text: string): string[] {
  if (!text.includes("```")) return [];
  const found: string[] = [];
  for (const match of text.matchAll(FENCED_SHELL)) {
    const body = match[1]?.trim();
    if (body) found.push(body);
  }
  return found;
}

// Harness wordings for a command it killed at its own limit (mini-swe-agent, Terminus, OpenHands).
const KILLED_TEXT = /timed out and has been killed|Command timed out after|\[Command timed out|command timed out|exceeded the timeout/i;
/** Exit codes of `timeout` (124) and of a SIGKILL (137, -9). */
const KILLED_CODES = new Set([124, 137, -9]);

function outputOf(step: Step | undefined): { output: string; exitCode?: number; error?: string; timedOut?: boolean } {
  if (!step) return { output: "" };
  const output = step.output ?? "";
  // A native search for the tag first: the regex steps through every character of an output without one.
  const printed = output.includes("<returncode>") ? RETURN_CODE.exec(output)?.[1] : undefined;
  const code = step.exitCode ?? (printed !== undefined ? Number(printed) : undefined);
  const timedOut = step.timedOut === true || KILLED_TEXT.test(step.error ?? "") || KILLED_TEXT.test(output.slice(0, 300)) || (code !== undefined && KILLED_CODES.has(code));
  return { output, ...(code !== undefined ? { exitCode: code } : {}), ...(step.error ? { error: step.error } : {}), ...(timedOut ? { timedOut } : {}) };
}

function isFailed(result: { output: string; exitCode?: number; error?: string; timedOut?: boolean }): boolean {
  if (result.timedOut) return true;
  if (result.error) return true;
  if (result.exitCode !== undefined) return result.exitCode !== 0;
  return FAILURE_WORDS.some((word) => result.output.includes(word)) && FAILURE_TEXT.test(result.output);
}

function toolCommand(name: string, args: unknown): string {
  const text = typeof args === "string" ? args : JSON.stringify(args ?? {});
  return `${name} ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`.trim();
}

// An agent that runs inside one terminal command (mini-swe-agent and the like) prints its own
// transcript: "<agent> (step N, $cost):", a thought, a fenced command, then the observation.
const EMBEDDED_STEP = /^[\w.-]+ \(step \d+[^)\n]*\):[ \t]*$/m;
const OBSERVATION_SPLIT = /^(?:User|Observation|Output):[ \t]*$/m;

function embeddedTranscript(output: string, step: number): { actions: Action[]; texts: AgentText[] } | undefined {
  // "(step " rather than " (step ": a search led by a rare character skips through the text, one led by a space stops everywhere.
  if (!output.includes("(step ") || !EMBEDDED_STEP.test(output)) return undefined;
  const blocks = output.split(new RegExp(EMBEDDED_STEP.source, "m")).slice(1);
  const actions: Action[] = [];
  const texts: AgentText[] = [];
  for (const block of blocks) {
    const split = OBSERVATION_SPLIT.exec(block);
    const said = split ? block.slice(0, split.index) : block;
    const observed = split ? block.slice(split.index + split[0].length).trim() : "";
    if (said.trim()) texts.push({ step, text: said.trim() });
    const code = RETURN_CODE.exec(observed);
    const result = { output: observed, ...(code ? { exitCode: Number(code[1]) } : {}) };
    for (const command of commandsOfText(said)) {
      const key = normalizeCommand(command);
      if (key !== "") actions.push({ step, command, key, output: result.output, failed: isFailed(result), ...(code ? { exitCode: Number(code[1]) } : {}) });
    }
  }
  return { actions, texts };
}

/** What the agent did and said, in order. */
export interface TraceView {
  actions: Action[];
  texts: AgentText[];
}

/** False when the trace shows nothing the agent did or said (no trajectory, or harness steps only). */
export function hasAgentWork(view: TraceView): boolean {
  return view.actions.length > 0 || view.texts.length > 0;
}

/**
 * The commands of a trial in order, each paired with its result, and the agent's messages. ATIF
 * puts results on the agent step itself; other readers emit a separate tool step right after;
 * transcripts parsed from a terminal pane may only carry fenced shell blocks in the agent's text,
 * or a whole agent transcript in the output of the command that launched it.
 */
export function traceOf(trial: Trial): TraceView {
  const actions: Action[] = [];
  const texts: AgentText[] = [];
  const steps = trial.steps;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (step.source !== "agent") continue;
    if (step.text) texts.push({ step: step.index, text: step.text });
    const next = steps[i + 1];
    const resultStep = step.output !== undefined || step.exitCode !== undefined || step.error !== undefined ? step : next?.source === "tool" ? next : undefined;
    const result = outputOf(resultStep);
    const embedded = embeddedTranscript(result.output, step.index);
    if (embedded) {
      actions.push(...embedded.actions);
      texts.push(...embedded.texts);
      continue;
    }
    // `calls: []` is a reader saying the step ran nothing (a rejected reply): its text is not scanned for commands.
    const issued: { command: string; tool?: string; args?: unknown }[] =
      step.calls !== undefined
        ? step.calls.map((call) => (call.command !== undefined ? { command: call.command, args: call.args } : { command: toolCommand(call.name, call.args), tool: call.name, args: call.args }))
        : commandsOfText(step.text ?? "").map((command) => ({ command }));
    for (const item of issued) {
      const key = normalizeCommand(item.command);
      // Bare control keys (C-d, Enter) leave an empty command: nothing the agent did.
      if (key === "") continue;
      const action: Action = { step: step.index, command: item.command, key, output: result.output, failed: isFailed(result) };
      if (item.tool !== undefined) action.tool = item.tool;
      if (item.args !== undefined) action.args = item.args;
      if (result.exitCode !== undefined) action.exitCode = result.exitCode;
      if (result.error !== undefined) action.error = result.error;
      if (result.timedOut) action.timedOut = true;
      actions.push(action);
    }
  }
  return { actions, texts };
}

// Command classification works on the segments of a compound command (`a && b | c; d`).
function segments(command: string): string[] {
  return command
    .split(/\n|&&|\|\||;|\|/)
    .map((s) => s.trim().replace(/^(?:sudo\s+|\w+=\S*\s+)+/, ""))
    .filter(Boolean);
}

const READ_ONLY_PROGRAMS = new Set([
  "ls", "cat", "find", "grep", "egrep", "rg", "head", "tail", "less", "more", "pwd", "echo", "printf", "wc", "file", "stat", "tree",
  "which", "whereis", "whoami", "env", "printenv", "du", "df", "ps", "sort", "uniq", "id", "uname", "type", "history", "clear",
  "date", "hostname", "cut", "awk", "sed", "diff", "cmp", "md5sum", "sha1sum", "sha256sum", "xxd", "od", "hexdump", "jq", "realpath",
  "readlink", "basename", "dirname", "true", "test", "[", "cd", "sleep", "man", "locate", "lsof", "netstat", "ss", "top", "nproc", "free",
]);
const READ_ONLY_GIT = /^git\s+(?:status|log|show|diff|branch\s*$|branch\s+-(?:a|r|v|vv|-list)\b|reflog|remote|config\s+--(?:get|list)|rev-parse|ls-files|blame|stash\s+list|fsck|cat-file|describe)\b/;
const WRITE_TOOL = /write|edit|create|replace|patch|insert|apply|save|append|str_replace/i;
const REDIRECT = /(?:^|[^0-9&<>])>{1,2}\s*(?!&|\/dev\/null)\S/;

/** True when the command cannot change the workspace (inspection only). */
export function isReadOnly(action: Pick<Action, "command" | "tool">): boolean {
  // Editor tools carry the operation in their arguments: `{"command": "view", ...}` only reads.
  if (action.tool !== undefined) return !WRITE_TOOL.test(action.tool) || /"command":"(?:view|read|list|show)"/.test(action.command);
  if (REDIRECT.test(action.command) || /\btee\b|\bsed\s+-i|\bpatch\b/.test(action.command)) return false;
  return segments(action.command).every((segment) => {
    if (/^git\b/.test(segment)) return READ_ONLY_GIT.test(segment);
    const program = segment.split(/\s+/)[0] ?? "";
    return READ_ONLY_PROGRAMS.has(program.replace(/^.*\//, ""));
  });
}

const VERIFY = [
  /\b(?:pytest|py\.test|unittest|nosetests|tox|ctest|bats|phpunit|rspec|jest|vitest|mocha)\b/,
  /\b(?:npm|yarn|pnpm)\s+(?:run\s+)?test\b/,
  /\b(?:go|cargo|dotnet|mvn|gradle)\s+test\b/,
  /\bmake\s+(?:test|check)\b/,
  /\brun[-_]tests?\b/,
  /(?:^|[;&|]\s*)(?:test|\[\[?)\s+-[efsdrxn]\b/,
  /\b(?:diff|cmp|md5sum|sha1sum|sha256sum)\b/,
  /\bgit\s+diff\b/,
  /\bassert\b/,
  /\bnginx\s+-t\b|\bapache(?:2ctl|ctl)\s+(?:-t|configtest)\b/,
  /\b(?:systemctl\s+status|service\s+\S+\s+status)\b/,
];
// Requests to the local service: curl, then a local address later on its line.
const LOCAL_REQUEST = [/\bcurl\b/, /\b(?:localhost|127\.0\.0\.1|0\.0\.0\.0)\b/] as const;

/** True when the command checks the work against something (tests, a diff, a hash, an assertion). */
export function isVerification(action: Pick<Action, "command" | "tool">): boolean {
  if (action.tool !== undefined && /test|verify|check/i.test(action.tool)) return true;
  return VERIFY.some((pattern) => pattern.test(action.command)) || laterOnLine(action.command, ...LOCAL_REQUEST);
}

const CLEANUP = /^(?:rm|rmdir|unlink|kill|pkill|killall|deactivate|exit|clear|true)\b|^git\s+(?:branch\s+-[dD]\b|stash\s+drop\b|worktree\s+remove\b)/;

/** True when the command only tidies up (deletes scratch files, a branch, stops a process): no new work to check. */
export function isCleanup(action: Pick<Action, "command" | "tool">): boolean {
  if (action.tool !== undefined) return /^(?:delete|remove)/i.test(action.tool);
  const parts = segments(action.command);
  return parts.length > 0 && parts.some((p) => CLEANUP.test(p)) && parts.every((p) => CLEANUP.test(p) || isReadOnly({ command: p }));
}

const DOC_FILE = /(?:^|\/)[\w.-]*(?:README|NOTES|SUMMARY|CHANGELOG|GUIDE|USAGE)[\w.-]*\.(?:md|rst)$/i;

/** The files a command or a write tool writes to, as far as the command line shows them. */
export function writtenPaths(action: Pick<Action, "command" | "tool" | "args">): string[] {
  if (action.tool !== undefined) {
    const args = action.args && typeof action.args === "object" ? (action.args as Record<string, unknown>) : {};
    const path = args.file_path ?? args.path ?? args.filename;
    return typeof path === "string" ? [path] : [];
  }
  const paths: string[] = [];
  for (const match of action.command.matchAll(/(?:^|[^0-9&<>])>{1,2}\s*(['"]?)([^\s'"&|;<>]+)\1/g)) if (match[2] !== "/dev/null") paths.push(match[2]!);
  for (const match of action.command.matchAll(/\btee\s+(?:-a\s+)?([^\s&|;<>]+)/g)) paths.push(match[1]!);
  return paths;
}

/**
 * True when the command writes only the agent's own notes (a README, a summary): writing them is not
 * a change to check. A file the instruction names is the task's output, never notes.
 */
export function isDocumentationWrite(action: Pick<Action, "command" | "tool" | "args">, instruction = ""): boolean {
  const paths = writtenPaths(action);
  return paths.length > 0 && paths.every((p) => DOC_FILE.test(p) && !instruction.includes(p.replace(/^.*\//, "")));
}

// A keyword, then a word later on its line: tried line by line (laterOnLine), never as `keyword[^\n]*word`.
const LONG_OPERATION_ON_LINE = [
  [/\b(?:pip3?|uv pip|pipx|conda|mamba|micromamba|npm|yarn|pnpm|gem|cargo|go|brew|apk|apt|apt-get|dnf|yum)\b/, /\b(?:install|add|create|update|upgrade|sync|get)\b/],
  // curl writing a file (-o, -O, -L among its flags).
  [/\bcurl\b/, /\s-[a-zA-Z]*[oOL]\b/],
] as const;
const LONG_OPERATION = [
  /\bconda\s+env\s+(?:create|update)\b/,
  /\b(?:wget|git\s+clone|git\s+lfs\s+pull|huggingface-cli\s+download|hf\s+download|snapshot_download|yt-dlp|youtube-dl|aria2c|rsync|scp)\b/,
  /\b(?:make|cmake\s+--build|ninja|cargo\s+build|go\s+build|mvn|gradle|docker\s+build|bazel|\.\/configure|npm\s+run\s+build)\b/,
  /\b(?:train|fine-?tune|fit|epochs?|supervised|torchrun|accelerate\s+launch|deepspeed)\b/i,
];

/** True when the command is an install, download, build or training run: the operations that outlast a command timeout. */
export function isLongOperation(action: Pick<Action, "command" | "tool">): boolean {
  if (action.tool !== undefined) return false;
  return LONG_OPERATION.some((p) => p.test(action.command)) || LONG_OPERATION_ON_LINE.some(([keyword, then]) => laterOnLine(action.command, keyword, then));
}

// The completion marker some harnesses ask for; it is a declaration, not work.
const COMPLETION_COMMAND = /\b(?:COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT|MINI_SWE_AGENT_FINAL_OUTPUT)\b/;
const COMPLETION_TOOL = /^(?:mark_)?task_complete$|^(?:submit|finish|attempt_completion|complete_task|done)$/i;

export function isCompletionAction(action: Pick<Action, "command" | "tool">): boolean {
  if (action.tool !== undefined) return COMPLETION_TOOL.test(action.tool);
  return COMPLETION_COMMAND.test(action.command);
}

/** The same text with every run of whitespace collapsed, for short quotes. */
export function oneLine(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
