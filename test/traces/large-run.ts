import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fixtures } from "./paths.js";

/** The Terminal-Bench 1 fixture run: a few tasks, one trial each. */
export const FIXTURE_RUN = resolve(fixtures, "tb1/results/example-bench@0.2.0/2026-02-10__09-00-00");

/** The fixture run with `copies` trials of each of its tasks, in `dir`: far more than the trial pool's LOCAL_FIRST. */
export async function largeRun(dir: string, copies: number): Promise<string> {
  const run = join(dir, "2026-02-10__09-00-00");
  await cp(FIXTURE_RUN, run, { recursive: true });
  for (const task of (await readdir(run, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name)) {
    const [trial] = await readdir(join(run, task));
    for (let k = 2; k <= copies; k++) {
      const name = trial!.replace(".1-of-1.", `.${k}-of-${copies}.`);
      await cp(join(run, task, trial!), join(run, task, name), { recursive: true });
      const file = join(run, task, name, "results.json");
      await writeFile(file, (await readFile(file, "utf8")).replaceAll(trial!, name));
    }
  }
  return run;
}
