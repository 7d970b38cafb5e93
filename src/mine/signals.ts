import type { Trial } from "../traces/types.js";
import { laterOnLine } from "../text/lines.js";
import type { Finding, SignalKind } from "./types.js";
import { isCleanup, isCompletionAction, isDocumentationWrite, isLongOperation, isReadOnly, isVerification, oneLine, traceOf, writtenPaths, type Action, type AgentText } from "./actions.js";
import { MISSING_FILE_TEXT, failedTests, verifierText } from "./verifier.js";

/** What every detector sees: the trial plus its commands, computed once. */
export interface TrialView {
  trial: Trial;
  actions: Action[];
  texts: AgentText[];
}

export type Detector = (view: TrialView) => Finding[];

export function viewOf(trial: Trial): TrialView {
  return { trial, ...traceOf(trial) };
}

const unique = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);
const finding = (kind: SignalKind, steps: number[], detail: string, basis: Finding["basis"] = "actions"): Finding => ({ kind, steps: unique(steps), detail, basis });
const work = (actions: Action[]) => actions.filter((a) => !isCompletionAction(a));

/**
 * True when the agent itself declared the run over (a submit command or tool, a finish state). A
 * harness label such as agent_timeout on a trial whose agent submitted is the harness's, not the
 * agent's: detectors judge the agent by what it did.
 */
export function submitted(view: TrialView): boolean {
  const stop = view.trial.stopReason ?? "";
  return /^(?:submitted|finished)\b/.test(stop) || view.actions.some(isCompletionAction);
}

/** The run ended by the agent's time limit while it was still working. */
export function cutOff(view: TrialView): boolean {
  if (submitted(view)) return false;
  const stop = view.trial.stopReason ?? "";
  if (/timeout|cut off|ended without/i.test(stop)) return true;
  const { agentSeconds, limitSeconds } = view.trial.duration ?? {};
  if (agentSeconds !== undefined && limitSeconds !== undefined) return agentSeconds >= limitSeconds * 0.95;
  return isAgentTimeout(view.trial.failureMode);
}

/** The same command (normalised) fails three times or more. */
export const repeatedFailingCommand: Detector = ({ actions }) => {
  const failures = new Map<string, Action[]>();
  for (const action of actions) {
    if (!action.failed || !action.key) continue;
    const list = failures.get(action.key);
    if (list) list.push(action);
    else failures.set(action.key, [action]);
  }
  return [...failures.values()]
    .filter((list) => list.length >= 3)
    .map((list) => finding("repeated-failing-command", list.map((a) => a.step), `\`${oneLine(list[0]!.command, 100)}\` failed ${list.length} times`));
};

const STALL_RUN = 5;

/** Five or more consecutive commands that repeat the previous command or return the same output. */
export const stalledLoop: Detector = ({ actions }) => {
  const findings: Finding[] = [];
  let start = 0;
  const flush = (end: number) => {
    if (end - start >= STALL_RUN) {
      const run = actions.slice(start, end);
      findings.push(finding("stalled-loop", run.map((a) => a.step), `${run.length} consecutive commands without new information, e.g. \`${oneLine(run[1]!.command, 80)}\``));
    }
  };
  for (let i = 1; i < actions.length; i++) {
    const previous = actions[i - 1]!;
    const current = actions[i]!;
    const sameOutput = current.output.trim() !== "" && current.output.trim() === previous.output.trim();
    if (current.key === previous.key || sameOutput) continue;
    flush(i);
    start = i;
  }
  flush(actions.length);
  return findings;
};

const MISSING_FILE = [
  /FileNotFoundError[^'"\n]*['"]([^'"\n]+)['"]/g,
  /No such file or directory:?\s*['"]?([^'"\s]+)['"]?/g,
  /['"]?(\/[\w./-]+)['"]? (?:does not exist|not found|is missing)/g,
  /(?:file|path|output) ['"]?([\w./-]+\.\w+)['"]? (?:does not exist|not found|is missing)/gi,
];

/** Paths the verifier reports missing. */
export function missingPaths(trial: Trial): string[] {
  const verifier = verifierText(trial);
  if (!MISSING_FILE_TEXT.test(verifier)) return [];
  const paths = new Set<string>();
  for (const pattern of MISSING_FILE) for (const match of verifier.matchAll(pattern)) if (match[1]) paths.add(match[1]);
  return [...paths];
}

const basename = (path: string) => path.replace(/\/+$/, "").replace(/^.*\//, "");

/** The verifier reports a required file missing and the agent never wrote to that path. */
export const missingArtifact: Detector = ({ trial, actions }) => {
  // Without the agent's commands there is no telling whether it wrote the file.
  if (actions.length === 0) return [];
  const failed = failedTests(trial);
  const existsTests = failed.filter((t) => /exist/i.test(t.name));
  const paths = missingPaths(trial);
  if (paths.length === 0 && existsTests.length === 0) return [];
  const writes = actions.filter((a) => !isReadOnly(a));
  const lastStep = actions.slice(-1).map((a) => a.step);
  if (paths.length > 0) {
    const written = writes.map((a) => `${a.command}\n${JSON.stringify(a.args ?? "")}`).join("\n");
    const unwritten = paths.filter((p) => !written.includes(basename(p)));
    if (unwritten.length === 0) return [];
    return [finding("missing-artifact", lastStep, `verifier reports ${unwritten.slice(0, 3).join(", ")} missing and the agent never wrote it`)];
  }
  // Only an `*_exists` test names the file: without a path, only an agent that wrote nothing at all is certain.
  if (writes.length > 0) return [];
  return [finding("missing-artifact", lastStep, `${existsTests.map((t) => t.name).join(", ")} failed and the agent never wrote any file`)];
};

/**
 * The verifier misses a file that the agent did write under another directory or name (same base
 * name elsewhere, or a file in the expected directory under another name): the output went to a
 * path other than the instruction's.
 */
export const wrongOutputPath: Detector = ({ trial, actions }) => {
  const paths = missingPaths(trial).filter((p) => p.includes("/"));
  if (paths.length === 0 || actions.length === 0) return [];
  for (const expected of paths) {
    const name = basename(expected);
    const dir = expected.slice(0, expected.length - name.length);
    for (const action of actions) {
      for (const written of writtenPaths(action)) {
        const writtenName = basename(written);
        const sameNameElsewhere = writtenName === name && written !== expected && !expected.endsWith(`/${written}`);
        const otherNameSameDir = dir !== "" && written.startsWith(dir) && writtenName !== name && !written.slice(dir.length).includes("/") && extension(writtenName) === extension(name);
        if (sameNameElsewhere || otherNameSameDir) {
          return [finding("wrong-output-path", [action.step], `the verifier looked for ${expected}; the agent wrote ${written}`)];
        }
      }
    }
  }
  return [];
};

const extension = (name: string) => /\.[^.]+$/.exec(name)?.[0] ?? "";

const LATE_SHARE = 0.7;
const MIN_EXPLORATION = 5;

/** Read-only exploration for most of the run, and the first change late or never. */
export const lateOrNoWrite: Detector = ({ actions }) => {
  const list = work(actions);
  if (list.length < MIN_EXPLORATION) return [];
  const first = list.findIndex((a) => !isReadOnly(a));
  if (first === -1) return [finding("late-or-no-write", list.map((a) => a.step).slice(-3), `${list.length} commands, all read-only: the agent never changed anything`)];
  if (first / list.length < LATE_SHARE) return [];
  return [finding("late-or-no-write", [list[first]!.step], `first change at command ${first + 1} of ${list.length}, after ${first} read-only commands`)];
};

const CLAIM = /\b(?:task (?:is |has been )?(?:now )?(?:complete|completed|done|finished|solved)|(?:have|has) (?:now )?(?:been )?(?:successfully )?(?:completed|finished|resolved|fixed|solved|merged|generated|created|implemented|saved)|successfully (?:completed|resolved|merged|fixed|created|implemented|generated|saved|found and merged)|all (?:done|set)|i(?:'m| am) done|work is complete|everything is (?:in order|working)|(?:solution|implementation) is (?:now )?complete)\b/i;

function claimSentence(text: string): string | undefined {
  // The last claim in a message is the conclusive one ("... merged. The task is complete.").
  // Terminal panes wrap lines mid-sentence.
  text = text.replace(/\s+/g, " ");
  const match = [...text.matchAll(new RegExp(CLAIM.source, "gi"))].pop();
  if (match?.index === undefined) return undefined;
  const start = text.lastIndexOf(".", match.index) + 1;
  const end = text.slice(match.index + match[0].length).search(/[.!]/);
  const sentence = text.slice(start, end === -1 ? undefined : match.index + match[0].length + end + 1);
  return oneLine(sentence.replace(/^\s*(?:THOUGHT|Analysis|Plan):\s*/i, ""), 140);
}

/** The agent's own completion claim: a completion tool or marker, or a final message saying so. */
export function completionClaim(view: TrialView): { step: number; quote: string } | undefined {
  const lastTexts = view.texts.slice(-3).reverse();
  const marker = [...view.actions].reverse().find(isCompletionAction);
  for (const text of lastTexts) {
    const quote = claimSentence(text.text);
    if (quote) return { step: text.step, quote };
  }
  if (marker) return { step: marker.step, quote: oneLine(marker.tool ?? marker.command, 80) };
  return undefined;
}

/** File-like words of a text: a path, or a name with an extension (not a method call like `df.head()`). */
function fileWords(text: string): Set<string> {
  return new Set(
    // The first form starts at a word's start only: retried from every character of a long dotted run, it took quadratic time.
    [...text.slice(0, 4000).matchAll(/(?<![\w./-])[\w./-]*[\w-]\.(?=\w*[A-Za-z])\w{1,8}\b(?![(.\w])|\/[\w./-]+/g)].map((m) => m[0].replace(/^.*\//, "")).filter((w) => w.length >= 3),
  );
}

const SCRIPT_RUN = /^(?:python3?|node|ruby|perl|bash|sh|php|Rscript)\s+(?!-c\b|-m\s+pip\b|<<)[\w./-]+|^\.\/[\w.-]+/;
const SCRIPT_FILE = /\.(?:py|sh|js|mjs|ts|rb|pl|php|R)$/;

/** A run of a program (not inline code) that exited cleanly and printed what the agent then read; writing the script first is fine, redirecting its output away is not. */
function isObservedRun(action: Action): boolean {
  if (action.tool !== undefined || action.failed || action.output.trim() === "") return false;
  const runs = action.command.split(/\n|&&|\|\||;/).some((segment) => SCRIPT_RUN.test(segment.trim()));
  return runs && writtenPaths(action).every((p) => SCRIPT_FILE.test(p));
}

/** A clean command with output that names only files the last change produced (`ffmpeg -i result.mp4` after the command that wrote it). */
function looksAtProduct(action: Action, change: Action, produced: () => Set<string>): boolean {
  if (action.failed || action.output.trim() === "") return false;
  const named = [...fileWords(action.command)];
  // Each of the change's file words is a piece of its command or output: a word in neither is not
  // among them, and a native search says so without the regex reading the change.
  if (named.length === 0 || !named.every((w) => change.command.includes(w) || change.output.includes(w))) return false;
  return named.every((w) => produced().has(w));
}

/**
 * The agent declared completion without looking at its result after its last change, and the
 * verifier failed. Clean-up (deleting scratch files) and notes (a README) are not changes to check;
 * running the program it wrote, or reading what its last change produced, is a look.
 */
export const unverifiedCompletion: Detector = (view) => {
  if (view.trial.outcome !== "fail") return [];
  const claim = completionClaim(view);
  if (!claim) return [];
  let change: Action | undefined;
  // The files the last change names, read from its command and output only when a later command
  // needs them: most changes are followed by another change or a check, never by a look.
  let producedByChange: Set<string> | undefined;
  const produced = () => (producedByChange ??= change ? fileWords(`${change.command}\n${change.output}`) : new Set<string>());
  let checked = true;
  const changeTo = (action: Action) => {
    change = action;
    producedByChange = undefined;
  };
  for (const action of work(view.actions)) {
    if (isCleanup(action) || isDocumentationWrite(action, view.trial.instruction)) continue;
    if (isVerification(action)) checked = true;
    else if (isObservedRun(action)) {
      // A run of its own program is a change (it may write) that the agent saw the result of.
      changeTo(action);
      checked = true;
    } else if (isReadOnly(action)) {
      if (change && !action.failed && action.output.trim() !== "") checked = true;
    } else if (change && looksAtProduct(action, change, produced)) checked = true;
    else {
      changeTo(action);
      checked = false;
    }
  }
  if (checked) return [];
  const steps = [claim.step, ...(change ? [change.step] : [])];
  return [finding("unverified-completion", steps, `agent claimed "${claim.quote}" without running a check after its last change`)];
};

/** The last commands errored and the agent stopped, or declared success, right after. */
export const toolErrorThenStop: Detector = ({ actions }) => {
  const list = work(actions).filter((a) => !a.timedOut);
  let trailing = 0;
  while (trailing < list.length && list[list.length - 1 - trailing]!.failed) trailing++;
  if (trailing === 0) return [];
  const errored = list.slice(list.length - trailing);
  const last = errored[errored.length - 1]!;
  return [finding("tool-error-then-stop", errored.map((a) => a.step), `run ended right after ${trailing} failing command(s), last \`${oneLine(last.command, 80)}\`: ${oneLine(last.error ?? last.output, 100)}`)];
};

const STATE_CHANGE = /^\s*(?:cd\s+(\S+)|export\s+(\w+)=|(?:source|\.)\s+\S*activate\b|conda\s+activate\b|PATH=|(\w+)=\S*)\s*$/;

/** How many later commands may show a lost state change: a fresh shell shows it at once. */
const ENV_WINDOW = 3;

/**
 * A directory, variable, venv or PATH change made alone in one call is gone in a later call:
 * a sign that the harness runs every call in a fresh shell.
 */
export const envLost: Detector = ({ actions }) => {
  for (let i = 0; i < actions.length; i++) {
    const setup = actions[i]!;
    if (setup.tool !== undefined) continue;
    const match = STATE_CHANGE.exec(setup.command.trim());
    if (!match) continue;
    const dir = match[1];
    const variable = match[2] ?? match[3];
    for (const later of actions.slice(i + 1, i + 1 + ENV_WINDOW)) {
      const lost =
        (dir !== undefined && /^\s*pwd\s*$/.test(later.command) && later.output.trim() !== "" && !later.output.includes(dir.replace(/\/$/, ""))) ||
        (dir !== undefined && later.failed && /No such file or directory/.test(later.output) && !/(?:^|\s)\//.test(later.command.replace(/^\s*\S+/, ""))) ||
        (variable !== undefined && later.failed && later.command.includes(`$${variable}`)) ||
        (dir === undefined && variable === undefined && later.failed && /command not found|ModuleNotFoundError|No module named/.test(later.output));
      if (lost) {
        return [finding("env-lost", [setup.step, later.step], `\`${oneLine(setup.command, 60)}\` did not carry over to \`${oneLine(later.command, 60)}\``)];
      }
    }
  }
  return [];
};

// `ImportError: cannot import name X from Y` is not here: Y is installed, and X is a wrong guess at its API.
const MISSING_MODULE = /(?:ModuleNotFoundError: No module named ['"]?([\w.-]+)|ImportError: No module named ['"]?([\w.-]+)|(?:^|\s|:\s)([\w.+-]+): command not found)/m;
const INSTALL = [/\b(?:pip3?|uv|apt(?:-get)?|npm|yarn|pnpm|conda|brew|cargo|gem|apk)\b/, /\b(?:install|add)\b/] as const;

/**
 * Asking whether a tool or module is there (`pdftk --version`, `which jq`, `python -c "import x"`): an
 * agent that probes and then works without it has lost nothing.
 */
function isProbe(command: string, name: string): boolean {
  const text = command.trim().toLowerCase();
  const n = name.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?:^|[;&|]\\s*)(?:which|type|hash|command\\s+-v)\\s+${n}\\b|(?:^|[;&|]\\s*)${n}\\s+(?:--version|-version|-v|-V|--help|-h)\\b|-c\\s+["']?(?:import|from)\\s+${n}\\b`).test(text);
}

/**
 * A module or tool the work needs is missing, and the agent never installs it nor works around it: a
 * probe that finds it missing is not a failure, and neither is a command that runs cleanly later (the
 * agent rewrote its script without the module, or installed it some other way).
 */
export const missingDependency: Detector = ({ trial, actions }) => {
  if (trial.outcome !== "fail") return [];
  for (let i = 0; i < actions.length; i++) {
    const action = actions[i]!;
    // Native searches first: a regex alternation scans every output a character at a time.
    const output = action.output;
    if (!output.includes("ModuleNotFoundError") && !output.includes("ImportError") && !output.includes("command not found")) continue;
    const match = MISSING_MODULE.exec(action.output);
    if (!match) continue;
    const name = (match[1] ?? match[2] ?? match[3] ?? "").split(".")[0]!;
    // Several commands sent in one step share one output: a missing command belongs to the one that names it.
    if (!name || (match[3] !== undefined && !action.command.includes(name)) || isProbe(action.command, name)) continue;
    const later = actions.slice(i + 1);
    const sameStep = new Set(actions.filter((a) => a.step === action.step).map((a) => a.key));
    const installed = later.some((a) => !a.failed && laterOnLine(a.command, ...INSTALL) && a.command.toLowerCase().includes(name.toLowerCase()));
    const workedAround = later.some((a) => !a.failed && a.step !== action.step && sameStep.has(a.key));
    if (installed || workedAround) continue;
    return [finding("missing-dependency", [action.step], `\`${name}\` is missing (${oneLine(match[0], 80)}) and never installed`)];
  }
  return [];
};

const INTERACTIVE = [
  /^(?:vi|vim|nvim|nano|emacs|pico|less|more|man|top|htop|watch)(?:\s|$)/,
  /^git\s+(?:commit(?!.*\s-(?:m|F|-message|-file|-no-edit|[a-z]*m))|rebase\s+-i|add\s+-p)/,
  /^(?:apt|apt-get)\s+(?:install|upgrade|remove)(?!.*\s-(?:y|-yes|qq|[a-z]*y))/,
  /^(?:python3?|node|irb|psql|mysql|sqlite3|ssh|ftp)\s*$/,
  /^tail\s+-f\b/,
];
const PROMPT_OUTPUT = /Do you want to continue\? \[Y\/n\]|\(END\)|-- INSERT --|Password:\s*$|\[y\/N\]\s*$|Press (?:ENTER|any key)|^~\s*$/m;
const TIMEOUT_TEXT = /timed? ?out|TimeoutError|timeout/i;

/**
 * A command that waits for input (editor, pager, prompt, `apt` without `-y`) until a timeout ended
 * the run. A hang the harness killed and the agent moved on from cost time, not the result.
 */
export const interactiveHang: Detector = (view) => {
  // The run ended on it: the hang is the agent's last command, and no other is looked at.
  const action = work(view.actions).at(-1);
  if (!action) return [];
  const first = action.command.trim().split(/&&|;|\|/)[0]!.trim().replace(/^sudo\s+/, "");
  const waits = INTERACTIVE.some((p) => p.test(first)) || PROMPT_OUTPUT.test(action.output);
  if (!waits) return [];
  const killed = action.timedOut === true || TIMEOUT_TEXT.test(action.error ?? "") || TIMEOUT_TEXT.test(action.output.slice(-300));
  if (killed || cutOff(view)) return [finding("interactive-hang", [action.step], `\`${oneLine(action.command, 80)}\` waited for input until the run's time ran out`)];
  return [];
};

const HARNESS_PARSE_ERROR = /Previous response had (?:parsing errors|warnings)|could not parse (?:your|the) (?:response|output|action|reply)|invalid JSON in (?:your )?(?:response|reply)|unknown tool\b|no such tool|tool ['"`]?[\w.-]+['"`]? (?:not found|does not exist|is not available)|no valid (?:tool call|action|command)|FormatError|Your (?:last )?(?:output|response) (?:was|is) not (?:in )?(?:the )?(?:correct|valid|expected) format|the harness rejected the response/i;
const PARSE_FAILURE_MODE = /llm_parse_error|format_error|FatalLlmParseError|OutputParseError/i;
/** Rejections before the format is the mechanism: one or two that the agent recovers from are routine. */
const FORMAT_REJECTIONS = 3;

/**
 * How far into a message or an output a rejection is looked for. A harness that rejects a reply says
 * so first: every rejection in the real samples opens its text (Terminus's "Previous response had
 * parsing errors", the rejections the readers write into a step's error), while the same words deep in
 * a command's output are that output (a grep for them, a tool registry's source). Scanning only the
 * head also spares the bulk of long outputs.
 */
const REJECTION_HEAD = 1000;
const rejects = (text: string | undefined) => text !== undefined && HARNESS_PARSE_ERROR.test(text.length > REJECTION_HEAD ? text.slice(0, REJECTION_HEAD) : text);

/** The harness could not parse the agent's output (bad JSON, unknown tool, two commands in one reply) again and again. */
export const formatError: Detector = ({ trial }) => {
  const steps = trial.steps
    // Error, text and output one at a time: no wording spans them, and joining them would copy each.
    .filter((s) => rejects(s.error) || (s.source !== "agent" && rejects(s.text)) || rejects(s.output))
    .map((s) => s.index);
  const byLabel = PARSE_FAILURE_MODE.test(trial.failureMode ?? "");
  if (steps.length < FORMAT_REJECTIONS && !byLabel) return [];
  return [finding("format-error", steps, byLabel ? `harness label ${trial.failureMode}` : `the harness rejected the agent's output format ${steps.length} times`)];
};

export function isAgentTimeout(mode: string | undefined): boolean {
  if (!mode) return false;
  return /timeout/i.test(mode) && !/test|verifier|setup|build|environment/i.test(mode);
}

/**
 * Words of an agent presenting something made up as the result: mocks, placeholders, guesses,
 * hard-coded stand-ins. A word the instruction itself uses ("replace keys with placeholder values")
 * is the task's vocabulary, not a confession.
 */
const FABRICATION = /\b(?:mock(?:ed|s)?(?: \w+)?|dummy \w+|fake \w+|stub(?:bed|s)? \w+|placeholder \w+|hard-?coded? \w+|simulat(?:e|es|ed|ing) (?:the )?\w+|synthetic (?:data|results?|values?)|random (?:weights|values|data|numbers)|reasonable (?:structures?|values?|estimates?|defaults?)|(?:most likely|probably) (?:outputs?|results?|prints?|answer)|extrapolat\w+|manually defin\w+ the \w+|based on what I know)\b/gi;
const NEGATED = /\b(?:no|not|never|without|avoid(?:ing)?|instead of|rather than|real|actual)\s+(?:\w+\s+){0,1}$/i;

function fabricationIn(text: string, instruction: string): string | undefined {
  for (const match of text.matchAll(FABRICATION)) {
    const head = match[0].split(" ")[0]!.toLowerCase().replace(/(?:ed|s|d)$/, "");
    if (instruction.includes(head)) continue;
    if (NEGATED.test(text.slice(Math.max(0, (match.index ?? 0) - 30), match.index))) continue;
    return match[0];
  }
  return undefined;
}

/** The sentence of `text` around position `at`, on one line, for a short quote. */
function sentenceAround(text: string, at: number, max = 180): string {
  const before = Math.max(text.lastIndexOf(". ", at), text.lastIndexOf("\n", at), text.lastIndexOf("! ", at), text.lastIndexOf("? ", at));
  const ends = [". ", "\n", "! ", "? "].map((e) => text.indexOf(e, at)).filter((i) => i !== -1);
  const end = ends.length > 0 ? Math.min(...ends) + 1 : text.length;
  return oneLine(text.slice(before === -1 ? 0 : before + 1, end), max).replace(/^THOUGHT:\s*/, "");
}

/** A mock, placeholder, guess or hard-coded stand-in that the agent then put in place of the real result. */
export const fabricatedResult: Detector = (view) => {
  if (view.trial.outcome !== "fail") return [];
  const instruction = (view.trial.instruction ?? "").toLowerCase();
  for (const text of view.texts) {
    const phrase = fabricationIn(text.text, instruction);
    if (!phrase) continue;
    // Said, then done: a change at or after the step that announced it, and no admission at the end.
    const acted = view.actions.some((a) => a.step >= text.step && !isReadOnly(a) && !isCompletionAction(a));
    if (!acted) continue;
    const at = text.text.toLowerCase().indexOf(phrase.toLowerCase());
    return [finding("fabricated-result", [text.step], `the agent put in a stand-in: "${sentenceAround(text.text, at)}"`)];
  }
  return [];
};

const GIVE_UP = /\b(?:reasonably close|close to (?:the|but)|can(?:no|')t (?:\w+ ){0,3}(?:execute|run|install|access|complete|download|reach|connect|finish)|could(?:n't| not) (?:\w+ ){0,3}(?:install|download|complete|run|execute|finish|reach|get)|unable to|not able to|due to (?:\w+ ){0,2}(?:limitations?|constraints|restrictions)|when (?:proper|real|the actual|valid) .{0,40}(?:are|is) available|as a starting point|not fully|(?:ran|running) out of time|given the time)\b/i;

/** The agent submitted while saying, in its last words, that the result is incomplete or a substitute. */
export const gaveUp: Detector = (view) => {
  if (view.trial.outcome !== "fail" || !submitted(view)) return [];
  for (const text of view.texts.slice(-2).reverse()) {
    const match = GIVE_UP.exec(text.text);
    if (!match) continue;
    return [finding("gave-up", [text.step], `the agent stopped while saying: "${sentenceAround(text.text, match.index)}"`)];
  }
  return [];
};

/**
 * A long operation (install, download, build, training) run in the foreground and killed by the
 * command's or the run's time limit, when the loss cost the result: the run was cut off while a
 * command was still running, or the agent then fell back to a stand-in or gave up. A killed install
 * the agent recovered from is not it.
 */
export const foregroundLongOperation: Detector = (view) => {
  if (view.trial.outcome !== "fail") return [];
  const list = work(view.actions);
  const killed = list.filter((a) => a.timedOut && isLongOperation(a));
  const last = list[list.length - 1];
  // Cut off with the last command killed, or still running (no exit code, no error): time ran out in it.
  const endedInOne = cutOff(view) && last !== undefined && (last.timedOut === true || (last.exitCode === undefined && !last.failed));
  if (killed.length === 0 && !endedInOne) return [];
  const fallback = killed.length > 0 ? [...fabricatedResult(view), ...gaveUp(view)].find((f) => f.steps[0]! >= killed[0]!.step) : undefined;
  if (!endedInOne && !fallback) return [];
  const lost = endedInOne && last && !killed.includes(last) ? [...killed, last] : killed;
  const why = endedInOne ? "the run ended while one was still running" : "then the agent fell back to a stand-in or gave up";
  // The excerpt shows the first loss, the last one, and where the agent fell back.
  const focus = [lost[0]!.step, lost[lost.length - 1]!.step, ...(fallback ? fallback.steps.slice(0, 1) : [])];
  return [finding("foreground-long-operation", focus, `${lost.length} long operation(s) run in the foreground and killed by a time limit, e.g. \`${oneLine(lost[0]!.command, 80)}\`; ${why}`)];
};

/**
 * The harness stopped the agent at its time limit, judged without the agent's actions (from the
 * harness's label, the stop reason, the time used against the limit). A trial whose actions show
 * what happened is judged by those instead, and a trial that did not run out of time is never one.
 */
export const timeout: Detector = (view) => {
  if (view.actions.length > 0 || view.texts.length > 0 || !cutOff(view)) return [];
  const { agentSeconds, limitSeconds } = view.trial.duration ?? {};
  const detail =
    agentSeconds !== undefined && limitSeconds !== undefined
      ? `ran ${Math.round(agentSeconds)} s of its ${Math.round(limitSeconds)} s limit`
      : `harness label ${view.trial.failureMode ?? view.trial.stopReason ?? "timeout"}`;
  return [finding("timeout", view.trial.steps.slice(-1).map((s) => s.index), detail, "metadata")];
};

/** Output tokens below which a run produced next to nothing. */
const TRIVIAL_OUTPUT_TOKENS = 50;

/** Without actions: the agent stopped early having produced almost nothing, and did not run out of time. */
export const quitEarly: Detector = (view) => {
  if (view.trial.outcome !== "fail" || view.actions.length > 0 || view.texts.length > 0 || cutOff(view)) return [];
  const output = view.trial.tokens?.output;
  if (output === undefined || output === 0 || output >= TRIVIAL_OUTPUT_TOKENS) return [];
  return [finding("gave-up", [], `the agent stopped after ${output} output tokens`, "metadata")];
};

const CONTEXT = /context[_ ]?length|ContextLengthExceeded|context window|maximum context|too many tokens|prompt is too long/i;

/** The conversation outgrew the model's context window. */
export const contextOverflow: Detector = ({ trial }) => {
  if (CONTEXT.test(trial.failureMode ?? "")) return [finding("context-overflow", trial.steps.slice(-1).map((s) => s.index), `harness label ${trial.failureMode}`, trial.steps.length > 0 ? "actions" : "metadata")];
  const step = trial.steps.find((s) => CONTEXT.test(s.error ?? ""));
  return step ? [finding("context-overflow", [step.index], oneLine(step.error!, 120))] : [];
};

export const DETECTORS: Record<SignalKind, Detector> = {
  "foreground-long-operation": foregroundLongOperation,
  "gave-up": (view) => [...gaveUp(view), ...quitEarly(view)],
  "fabricated-result": fabricatedResult,
  "repeated-failing-command": repeatedFailingCommand,
  "stalled-loop": stalledLoop,
  "missing-artifact": missingArtifact,
  "wrong-output-path": wrongOutputPath,
  "late-or-no-write": lateOrNoWrite,
  "unverified-completion": unverifiedCompletion,
  "tool-error-then-stop": toolErrorThenStop,
  "env-lost": envLost,
  "missing-dependency": missingDependency,
  "interactive-hang": interactiveHang,
  "format-error": formatError,
  timeout,
  "context-overflow": contextOverflow,
};

export function detectSignals(trial: Trial): Finding[] {
  const view = viewOf(trial);
  return Object.values(DETECTORS).flatMap((detect) => detect(view));
}
