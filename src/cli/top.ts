import { packageVersion } from "../version.js";
import { processIo, type CliIo } from "./io.js";

/**
 * What `selfharness` answers before any command is loaded: its help (`--help`, `-h`, `help`, or no
 * argument at all) and its version. These are written here rather than by commander so that they load
 * nothing but this module: bin/selfharness.cjs runs its CommonJS build (dist/bundle/top.cjs), and the
 * answer takes bare Node's start-up. An ES module entry adds about 8 ms, commander about 15.
 * The help is the text commander prints for the program (test/cli/top.test.ts compares the two).
 */
export const PROGRAM = {
  name: "selfharness",
  description: "Turn an agent's evaluation failures into small, tested edits of its own harness.",
  version: { flags: "-V, --version", description: "print the version" },
} as const;

/** The commands and the summaries the command list shows; cli/program.ts loads each only when it is the one asked for. */
export const COMMANDS = [
  { name: "ingest", summary: "read eval traces into trials: task, attempt, pass / fail / invalid, steps" },
  { name: "mine", summary: "find failure mechanisms that recur across tasks and runs, with evidence" },
  { name: "propose", summary: "propose small, guarded edits of a repository's harness for the top weakness" },
  { name: "gate", summary: "decide whether a candidate harness beats its baseline" },
] as const;

export type CommandName = (typeof COMMANDS)[number]["name"];

/**
 * Answers `argv` (as in process.argv) when it asks only for the help or the version, and returns
 * undefined for anything else: a command, an unknown word or option, or more than one argument,
 * which commander parses.
 */
export function answerTopLevel(argv: string[], io: CliIo = processIo()): number | undefined {
  const answer = answerFor(argv.slice(2), io);
  if (!answer) return undefined;
  try {
    if (answer.stream === "out") io.out(answer.text);
    else io.err(answer.text);
  } catch (error) {
    // A full disk, a closed descriptor: reported as a command's failure is.
    return reportFailure(io, error);
  }
  return answer.code;
}

/** How the CLI reports an error nothing else handled: one line on stderr, and exit code 2. */
export function reportFailure(io: CliIo, error: unknown): number {
  io.err(`selfharness: ${error instanceof Error ? error.message : String(error)}`);
  return 2;
}

/** The help or the version `args` ask for, with its stream and exit code; undefined for anything else. */
function answerFor(args: string[], io: CliIo): { stream: "out" | "err"; text: string; code: number } | undefined {
  // As commander does when no command is given: the help, on stderr, as an error.
  if (args.length === 0) return { stream: "err", text: topHelp(io.columns?.("err")), code: 2 };
  if (args.length > 1) return undefined;
  const [word] = args;
  if (word === "-V" || word === "--version") return { stream: "out", text: packageVersion(), code: 0 };
  if (word === "-h" || word === "--help" || word === "help") return { stream: "out", text: topHelp(io.columns?.("out")), code: 0 };
  return undefined;
}

/** The program's help at `width` columns (80 unless a terminal says otherwise), laid out as commander 14 lays it out. */
export function topHelp(width = 80): string {
  const help = "display help for command";
  const options: [string, string][] = [
    [PROGRAM.version.flags, PROGRAM.version.description],
    ["-h, --help", help],
  ];
  const commands: [string, string][] = [...COMMANDS.map((c): [string, string] => [c.name, c.summary]), ["help [command]", help]];
  const termWidth = Math.max(...[...options, ...commands].map(([term]) => term.length));
  const item = ([term, description]: [string, string]) => {
    const remaining = width - termWidth - 4;
    const wrapped = remaining < MIN_WIDTH_TO_WRAP ? description : boxWrap(description, remaining).replaceAll("\n", `\n${" ".repeat(termWidth + 4)}`);
    return `  ${term.padEnd(termWidth)}  ${wrapped}`;
  };
  return [
    `Usage: ${PROGRAM.name} [options] [command]`,
    "",
    width < MIN_WIDTH_TO_WRAP ? PROGRAM.description : boxWrap(PROGRAM.description, width),
    "",
    "Options:",
    ...options.map(item),
    "",
    "Commands:",
    ...commands.map(item),
    "",
  ].join("\n");
}

/** Below this many columns commander leaves a text unwrapped. */
const MIN_WIDTH_TO_WRAP = 40;

/** `text` wrapped at spaces to lines of at most `width` characters (a longer word keeps a line of its own). */
function boxWrap(text: string, width: number): string {
  const [first = "", ...rest] = text.match(/\s*\S+/g) ?? [];
  const lines: string[] = [];
  let line = first;
  for (const chunk of rest) {
    if (line.length + chunk.length <= width) line += chunk;
    else {
      lines.push(line);
      line = chunk.trimStart();
    }
  }
  lines.push(line);
  return lines.join("\n");
}
