import { describe, expect, it } from "vitest";
import { BINARY_MARKER, terminalLines, terminalText, unwrapLines } from "../../src/traces/terminal.js";

const ESC = "\u001b";

describe("terminal text", () => {
  it("drops escapes, keeps each line's last redraw, and drops spinners and rules", () => {
    const raw = [`${ESC}[?2004h${ESC}[1;32mUser${ESC}[0m:\r`, `⠋ Waiting for the LM to respond...\r${ESC}[2KTHOUGHT: look\r`, `${ESC}]0;title\u0007${"─".repeat(80)}`, "50%\r75%\r100% done"].join("\n");
    expect(terminalText(raw)).toBe("User:\nTHOUGHT: look\n100% done");
    expect(terminalLines(raw).width).toBe(80);
  });

  it("marks binary runs once instead of copying them", () => {
    const text = terminalText(["ok", "\ufffd".repeat(40), "\ue000\ufffd".repeat(30), "\u0000\u0007bell", "end"].join("\n"));
    expect(text).toBe(`ok\n${BINARY_MARKER}\nbell\nend`);
  });

  it("joins lines an agent UI wrapped at the console width, and nothing else", () => {
    const wrapped = `${"word ".repeat(31)}`; // 155 columns ending at a break space
    const cut = "x".repeat(160);
    expect(unwrapLines([wrapped, "more", cut, "tail", "short line ", "next", `│${" ".repeat(158)}│`, "after"], 160)).toEqual([
      `${wrapped}more`,
      `${cut} tail`,
      "short line",
      "next",
      `│${" ".repeat(158)}│`,
      "after",
    ]);
    expect(unwrapLines([cut, "tail"], undefined)).toEqual([cut, "tail"]);
  });
});

describe("escape and control removal", () => {
  // The one-pass pattern the reader used before it searched for ESC natively: the removal must cut
  // exactly what it cut, escapes inside escapes and control bytes inside sequences included.
  // eslint-disable-next-line no-control-regex
  const ONE_PASS = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-?]*[ -/]*[@-~]|\x1b(?:[()*+][0-9A-Za-z]|[@-Z\\-_=>78])|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
  const ALPHABET = [ESC, ESC, "[", "]", "\\", "\u0007", "\u0008", "\u007f", "\u0000", "(", "0", "1", ";", "?", "m", "A", "7", " ", "/", "\r", "\n", "a", "\u0085", "\ufffd", "\ue000", "─"];

  it("cuts what the one-pass pattern cut, on random text made of escape material", () => {
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 3000; round++) {
      const length = 1 + Math.floor(next() * 60);
      const raw = Array.from({ length }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]!).join("");
      expect(terminalLines(raw), JSON.stringify(raw)).toEqual(terminalLines(raw.replace(ONE_PASS, "")));
    }
  });
});
