import { describe, expect, it } from "vitest";
import { BINARY_MARKER, readCapture, terminalLines, terminalText, unwrapLines } from "../../src/traces/terminal.js";

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

describe("terminal lines against the plain reading", () => {
  // The capture read the plain way: one pass removing escapes and control bytes, then each line's
  // last redraw, spinners, rules and binary runs. The reader takes shortcuts around lines with
  // nothing special in them; it must give exactly this.
  // eslint-disable-next-line no-control-regex
  const ONE_PASS = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-?]*[ -/]*[@-~]|\x1b(?:[()*+][0-9A-Za-z]|[@-Z\\-_=>78])|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
  const ODD_CHAR = /[\ufffd\ue000-\uf8ff\x80-\x9f]/g;
  function plainReading(raw: string): { lines: string[]; width?: number } {
    const lines: string[] = [];
    const widths = new Map<number, number>();
    for (const rawLine of raw.replace(ONE_PASS, "").split("\n")) {
      const redrawn = rawLine.replace(/\r+$/, "");
      const line = redrawn.slice(redrawn.lastIndexOf("\r") + 1).replace(/[\u2800-\u28ff] ?(?:Waiting for the LM to respond|Thinking|Working)\.\.\./g, "");
      if (line !== "" && /^[\s\u2500-\u257f]*$/.test(line)) {
        if (line.length >= 40) widths.set(line.length, (widths.get(line.length) ?? 0) + 1);
      } else if (line.length >= 16 && (line.match(ODD_CHAR)?.length ?? 0) / line.length > 0.3) {
        if (lines[lines.length - 1] !== BINARY_MARKER) lines.push(BINARY_MARKER);
      } else lines.push(line);
    }
    const width = [...widths.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    return width === undefined ? { lines } : { lines, width };
  }
  const PIECES = [ESC, ESC, "[", "]", "\\", "\u0007", "\u0008", "\u007f", "\u0000", "(", "0", "1", ";", "?", "m", "A", "7", " ", "/", "\r", "\r", "\n", "\n", "a", "word ", "\u0085", "\ufffd", "\ue000", "\ufffd".repeat(12), "─", "─".repeat(45), "\u280b", "\u280b Thinking...", "Working...", "..."];

  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const randomCapture = (pieces: string[]) => Array.from({ length: 1 + Math.floor(next() * 60) }, () => pieces[Math.floor(next() * pieces.length)]!).join("");

  it("gives what the plain reading gives, on random text made of escape and redraw material", () => {
    for (let round = 0; round < 5000; round++) {
      const raw = randomCapture(PIECES);
      expect(terminalLines(raw), JSON.stringify(raw)).toEqual(plainReading(raw));
    }
  });

  it("names every unwrapped line that holds a word among the lines that may hold one", () => {
    const words = ["Error", "429", "status"];
    // Mostly plain text, where the search of the capture stands for the lines' own.
    const pieces = ["Err", "or", "Error", "42", "9", "429", "sta", "tus", "status: 429", " ", "a", "word ".repeat(8), "x".repeat(30), "\n", "\n", "\r\n", `\n${"─".repeat(45)}\n`, `Err${ESC}[0mor`, `${ESC}[1m`, "\r", "\u280b Thinking..."];
    for (let round = 0; round < 5000; round++) {
      const raw = randomCapture(pieces);
      const plain = plainReading(raw);
      const capture = readCapture(raw);
      expect(capture.lines, JSON.stringify(raw)).toEqual(unwrapLines(plain.lines, plain.width));
      const from = Math.floor(next() * 3);
      const named = capture.mayHold(words, from);
      const holding = capture.lines.flatMap((line, i) => (i >= from && words.some((w) => line.includes(w)) ? [i] : []));
      expect(holding.filter((i) => !named.includes(i)), JSON.stringify(raw)).toEqual([]);
      expect(named, JSON.stringify(raw)).toEqual([...new Set(named)].sort((a, b) => a - b));
    }
  });
});
