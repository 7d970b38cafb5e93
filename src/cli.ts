import { processIo, type CliIo } from "./cli/io.js";
import { answerTopLevel } from "./cli/top.js";

/**
 * Runs the CLI on `argv` (as in process.argv) and resolves to the exit code. The program's help and
 * version are answered without loading commander (cli/top.ts); everything else is parsed by it.
 */
export async function main(argv: string[], io: CliIo & { code: number } = processIo()): Promise<number> {
  return answerTopLevel(argv, io) ?? (await import("./cli/program.js")).runProgram(argv, io);
}
