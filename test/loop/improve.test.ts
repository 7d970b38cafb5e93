/**
 * improve() on the bundled example through the CLI's host: the open proposals are looked at again just
 * before opening, so a run of the same delivery that opened the proposal meanwhile (a job handed to a
 * second worker, a second replica) is not opened twice.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { localHost, LOCAL_RUN } from "../../src/cli/host.js";
import { parseConfig } from "../../src/config/load.js";
import type { Host, LoopContext, ProposalPR, PullRequest } from "../../src/loop/host.js";
import { improve } from "../../src/loop/improve.js";
import { readTrials } from "../../src/traces/index.js";
import { repoRoot } from "../traces/paths.js";

const example = resolve(repoRoot, "examples/terminal-agent");

async function exampleHost(): Promise<{ host: Host; ctx: LoopContext }> {
  const parsed = parseConfig(await readFile(resolve(example, ".github/selfharness.yml"), "utf8"));
  if (!parsed.ok) throw new Error("the example's configuration does not parse");
  const { config } = parsed;
  const host = localHost({ traces: await readTrials([resolve(example, "traces")]), repoDir: example, config });
  return { host, ctx: { config, llm: null, labelCache: new Map() } };
}

describe("improve", () => {
  it("does not open a proposal that another run of the same delivery opened while it mined and drafted", async () => {
    const { host, ctx } = await exampleHost();
    const first = await improve(host, ctx, LOCAL_RUN);
    expect(first.status).toBe("opened");
    const opened = (first as { pr: ProposalPR }).pr;

    // The same delivery again: nothing is open when it starts, the first run's proposal is by the time it has a draft.
    const lists: PullRequest[][] = [[], [opened]];
    let openings = 0;
    const racing: Host = {
      ...host,
      proposals: async (state) => (state === "open" ? (lists.shift() ?? [opened]) : []),
      openProposal: async (request) => {
        openings++;
        return host.openProposal(request);
      },
    };
    const second = await improve(racing, ctx, LOCAL_RUN);
    expect(second).toMatchObject({ status: "skipped", kind: "handled", reason: `run ${LOCAL_RUN.id} attempt ${LOCAL_RUN.attempt} was already handled` });
    expect(openings).toBe(0);
    expect(lists).toEqual([]);

    // Asked for by name, the weakness is new work: the late look does not stop it.
    const named = await improve({ ...racing, proposals: async () => [] }, ctx, LOCAL_RUN, { weakness: opened.state.weakness });
    expect(named.status).toBe("opened");
  });
});
