/** The CLI as `bin/selfharness.cjs` runs it, from the sources (through tsx), for tests that need a real process. */
import { main } from "../../src/cli.js";

process.exitCode = await main(process.argv);
