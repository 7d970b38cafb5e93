import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { inputsProblem, isSafeTaskName, MAX_DISPATCH_INPUTS, regressionInputs, regressionTasks } from "../../src/loop/dispatch.js";
import type { DispatchRequest, Host, LoopContext, ProposalPR } from "../../src/loop/host.js";
import { dispatchStage } from "../../src/loop/stages.js";

describe("task names on their way to a workflow input", () => {
  it("passes the names benchmarks use", () => {
    for (const name of ["fix-git", "hello-world", "crack-7z-hash", "swe-bench/django__django-11099", "lean4_proof", "task.v2", "org@task+1"]) {
      expect(isSafeTaskName(name), name).toBe(true);
    }
  });

  it("never passes a name that could split the list, end a line or reach a shell", () => {
    for (const name of ["a,b", "a\nb", "a b", "a\tb", "$(id)", "`id`", "a;b", "a|b", "a'b", 'a"b', "../etc", "-rf", "", "a".repeat(201), "a\u0000b", "naïve"]) {
      expect(isSafeTaskName(name), JSON.stringify(name)).toBe(false);
    }
  });

  it("drops unsafe names from the dispatched list instead of letting them cut it short", () => {
    // A newline used to end the list early and silently drop every later task.
    expect(regressionTasks({ targeted: ["fix-git", "evil\nname"], preserve: ["a,b", "hello-world"], heldOut: ["fix-git", "sort-lines"] })).toEqual(["fix-git", "hello-world", "sort-lines"]);
  });
});

describe("the length of a dispatch's inputs", () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `terminal-bench/task-number-${String(i).padStart(4, "0")}`);

  it("fits GitHub's 65,535 characters, or says which stage is too long and what to lower", () => {
    expect(inputsProblem(1, regressionInputs("id", names(1500), 2))).toBeNull();
    const inputs = regressionInputs("id", names(3000), 2);
    expect(JSON.stringify(inputs).length).toBeGreaterThan(MAX_DISPATCH_INPUTS);
    expect(inputsProblem(2, inputs)).toBe(
      `The regression workflow could not be dispatched: stage 2 names 3000 tasks, ${JSON.stringify(inputs).length} characters of inputs, more than the 65535 GitHub accepts; lower \`regression.preserve\` or \`regression.maxHeldOut\`.`,
    );
  });

  it("refuses such a stage before either side starts", async () => {
    const dispatched: DispatchRequest[] = [];
    const quiet = () => undefined;
    const host = {
      dispatchRegression: async (request: DispatchRequest) => {
        dispatched.push(request);
        return { ok: true as const, runId: 100 + dispatched.length };
      },
      log: { info: quiet, warn: quiet, error: quiet, debug: quiet },
    } as unknown as Host;
    const ctx = { config: configSchema.parse({}), llm: null, labelCache: new Map() } as LoopContext;
    const pr = { number: 3, headRef: "selfharness/x", headSha: "a".repeat(40), state: { slug: "x", base: { ref: "main", sha: "b".repeat(40) } } } as unknown as ProposalPR;
    const refused = await dispatchStage(host, ctx, pr, { stage: 2, tasks: names(3000), trials: 2 }, 0);
    expect(refused).toMatchObject({ ok: false, problem: expect.stringContaining("stage 2 names 3000 tasks") });
    expect(dispatched).toEqual([]);
    expect(await dispatchStage(host, ctx, pr, { stage: 2, tasks: names(1500), trials: 2 }, 0)).toMatchObject({ ok: true });
    expect(dispatched.map((d) => d.ref)).toEqual(["selfharness/x", "main"]);
  });
});
