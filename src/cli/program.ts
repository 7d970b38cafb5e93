import { Command, CommanderError } from "commander";
import { packageVersion } from "../version.js";
import type { CliIo } from "./io.js";
import { COMMANDS, PROGRAM, reportFailure, type CommandName } from "./top.js";

type Register = (program: Command, io: CliIo) => void;

/**
 * Each command's module, loaded only when it is the one asked for: the readers, the tokenizer, the
 * model client and the configuration schema cost most of a second to load, which no other command
 * should pay.
 */
const LOADERS: Record<CommandName, () => Promise<Register>> = {
  ingest: async () => (await import("./ingest.js")).registerIngest,
  mine: async () => (await import("./mine.js")).registerMine,
  propose: async () => (await import("./propose.js")).registerPropose,
  gate: async () => (await import("./gate.js")).registerGate,
};

/** The command `argv` asks for (`help <command>` included), or undefined. */
function requested(argv: string[]): string | undefined {
  const words = argv.slice(2).filter((w) => !w.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/** The program with the requested command loaded and the others listed by name and summary. */
export async function buildProgram(io: CliIo, argv: string[]): Promise<Command> {
  const program = new Command(PROGRAM.name)
    .description(PROGRAM.description)
    .version(packageVersion(), PROGRAM.version.flags, PROGRAM.version.description)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      getOutHelpWidth: () => io.columns?.("out") ?? 80,
      getErrHelpWidth: () => io.columns?.("err") ?? 80,
    });
  const wanted = requested(argv);
  for (const command of COMMANDS) {
    if (command.name === wanted) (await LOADERS[command.name]())(program, io);
    else program.command(command.name).summary(command.summary);
  }
  return program;
}

/** Parses `argv` with commander and runs the command it names; resolves to the exit code. */
export async function runProgram(argv: string[], io: CliIo & { code: number }): Promise<number> {
  try {
    const program = await buildProgram(io, argv);
    await program.parseAsync(argv);
    return io.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    return reportFailure(io, error);
  }
}
