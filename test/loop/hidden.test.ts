import { describe, expect, it } from "vitest";
import { hiddenValue, stateKey } from "../../src/loop/hidden.js";
import { withValidationStatus } from "../../src/report/comments.js";

const key = stateKey("a test key of some length");
const hidden = hiddenValue("test:value", key, (v) => (typeof v === "object" && v !== null && "n" in v ? (v as { n: number }) : null));
const forged = "<!-- test:value eyJuIjo5OX0= 0000000000000000000000000000000000000000000000000000000000000000 -->";

describe("a hidden value in an editable description", () => {
  it("replaces every copy, forged ones too, keeps the text around them, and decodes what it wrote", () => {
    const body = `Intro\n\n${hidden.encode({ n: 1 })}\n\nMiddle\n\n\n${forged}\nEnd\n`;
    const replaced = hidden.replace(body, { n: 2 });
    // As the earlier single regex did (blank lines before a copy go with it), without its quadratic retries.
    expect(replaced).toBe(`${body.replace(/\n*<!-- test:value [^>]*-->\n?/g, "").trimEnd()}\n\n${hidden.encode({ n: 2 })}\n`);
    expect(replaced).toBe(`Intro\nMiddleEnd\n\n${hidden.encode({ n: 2 })}\n`);
    expect(hidden.decode(replaced)).toEqual({ n: 2 });
    expect(hidden.decode(`${forged}\n${replaced}`)).toEqual({ n: 2 });
  });

  it("stays linear on a description of blank lines and unterminated comments", () => {
    const start = performance.now();
    hidden.replace(`${"\n".repeat(65_000)}x`, { n: 1 });
    hidden.replace("<!-- test:value ".repeat(4_000), { n: 1 });
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});

describe("the validation status in a proposal's description", () => {
  const body = "Summary\n\n### Validation\n\nPending.\n\n### Evidence\n\nA table.\n";

  it("replaces the section's text up to the next heading, details block or comment, or to the trailing blanks", () => {
    expect(withValidationStatus(body, "Stage 1 running.")).toBe("Summary\n\n### Validation\n\nStage 1 running.\n\n### Evidence\n\nA table.\n");
    // The same as the earlier lazy regex on every shape it handled.
    const reference = (text: string, status: string) => text.replace(/(^### Validation\n\n)[\s\S]*?(?=\n\n### |\n\n<details>|\n\n<!-- |\s*$)/m, (_m, h: string) => `${h}${status}`);
    for (const text of [
      body,
      "### Validation\n\nPending.  \n\n",
      "### Validation\n\n",
      "Intro\n### Validation\n\nold\n\n<details>x</details>",
      "### Validation\n\nold\n\n<!-- m x -->\n### Validation\n\nsecond",
      "No section here.",
      "Not ### Validation\n\nx",
    ]) {
      expect(withValidationStatus(text, "Done."), JSON.stringify(text)).toBe(reference(text, "Done."));
    }
  });

  it("stays linear on a description of blanks", () => {
    const start = performance.now();
    withValidationStatus(`### Validation\n\nx${" ".repeat(65_000)}y`, "Done.");
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});
