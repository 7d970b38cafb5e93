import { packageVersion } from "./version.js";
import { Command, CommanderError } from "commander";
import { processIo, type CliIo } from "./cli/io.js";

type Register = (program: Command, io: CliIo) => void;

/**
 * The commands, each loaded only when it is the one asked for: the readers, the tokenizer, the model
 * client and the configuration schema cost most of a second to load, which `selfharness --help` and
 * `--version` should not pay. The summaries here are what the command list shows.
 */
const COMMANDS: { name: string; summary: string; load: () => Promise<Register> }[] = [
  { name: "ingest", summary: "read eval traces into trials: task, attempt, pass / fail / invalid, steps", load: async () => (await import("./cli/ingest.js")).registerIngest },
  { name: "mine", summary: "find failure mechanisms that recur across tasks and runs, with evidence", load: async () => (await import("./cli/mine.js")).registerMine },
  { name: "propose", summary: "propose small, guarded edits of a repository's harness for the top weakness", load: async () => (await import("./cli/propose.js")).registerPropose },
  { name: "gate", summary: "decide whether a candidate harness beats its baseline", load: async () => (await import("./cli/gate.js")).registerGate },
];

/** The command `argv` asks for (`help <command>` included), or undefined. */
function requested(argv: string[]): string | undefined {
  const words = argv.slice(2).filter((w) => !w.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/** The program with the requested command loaded and the others listed by name and summary. */
export async function buildProgram(io: CliIo, argv: string[]): Promise<Command> {
  const program = new Command("selfharness")
    .description("Turn an agent's evaluation failures into small, tested edits of its own harness.")
    .version(packageVersion(), "-V, --version", "print the version")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  const wanted = requested(argv);
  for (const command of COMMANDS) {
    if (command.name === wanted) (await command.load())(program, io);
    else program.command(command.name).summary(command.summary);
  }
  return program;
}

/** Runs the CLI on `argv` (as in process.argv) and resolves to the exit code. */
export async function main(argv: string[], io: CliIo & { code: number } = processIo()): Promise<number> {
  try {
    const program = await buildProgram(io, argv);
    await program.parseAsync(argv);
    return io.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    io.err(`selfharness: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}
