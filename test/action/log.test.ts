import { describe, expect, it } from "vitest";
import { actionsLog } from "../../src/action/log.js";

describe("the Action's log", () => {
  it("never lets text in an info line start a workflow command on a line of its own", () => {
    let out = "";
    const { log } = actionsLog((text) => (out += text));
    log.info({ runId: 1 }, "no proposal: artifact note evil\n::add-mask::selfharness\r\n::error title=fake::forged");
    log.warn("a warning\n::stop-commands::x");
    expect(out.split("\n").filter((line) => line.trimStart().startsWith("::")).map((line) => line.slice(0, 10))).toEqual(["::warning:"]);
    expect(out).toContain('no proposal: artifact note evil ::add-mask::selfharness ::error title=fake::forged {"runId":1}\n');
  });
});
