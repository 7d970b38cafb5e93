/**
 * Plain text from a terminal capture (a tmux pipe log, a pane). Captures hold escape sequences,
 * carriage-return redraws, progress spinners and whatever bytes a program printed; none of that may
 * reach a detector or a report. Every pattern here is linear: trace text is hostile.
 */

// OSC (window titles), CSI (colours, cursor moves, bracketed paste) and the two-byte escapes, tried
// where an ESC stands; an ESC that starts none of them goes alone. ESC is a literal a native search
// finds at memory speed, while a regex led by a class of control bytes steps through every character.
const ESCAPE =
  // eslint-disable-next-line no-control-regex
  /\x1b(?:\][^\x07\x1b]*(?:\x07|\x1b\\)|\[[0-?]*[ -/]*[@-~]|[()*+][0-9A-Za-z]|[@-Z\\-_=>78])?/y;
/** Any other control byte; never \t, \n or \r: the lines and their redraws are cut at those. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
/** Spinner frames an agent's UI redraws while it waits for the model (mini-swe-agent's, among others). */
const SPINNER = /[\u2800-\u28ff] ?(?:Waiting for the LM to respond|Thinking|Working)\.\.\./g;
const SPINNER_ANY = new RegExp(SPINNER.source);
/** A line made only of box-drawing rules and blanks (rich's separators). */
const RULE = /^[\s\u2500-\u257f]*$/;
export const BINARY_MARKER = "[binary output omitted]";

/** Characters that make a line look like bytes rather than text. */
const ODD = /[\ufffd\ue000-\uf8ff\x80-\x9f]/;

/** True when a line looks like bytes rather than text: many replacement or private-use characters. */
function looksBinary(line: string): boolean {
  // One native scan rules out nearly every line before the count in JavaScript.
  if (line.length < 16 || !ODD.test(line)) return false;
  let odd = 0;
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code === 0xfffd || (code >= 0xe000 && code <= 0xf8ff) || (code >= 0x80 && code < 0xa0)) odd++;
  }
  return odd / line.length > 0.3;
}

/** The text without its escape sequences: each ESC found by a native search, its sequence cut there. */
function withoutEscapes(raw: string): string {
  let at = raw.indexOf("\x1b");
  if (at === -1) return raw;
  const kept: string[] = [];
  let from = 0;
  while (at !== -1) {
    kept.push(raw.slice(from, at));
    // Always matches: the ESC alone at least. A sequence is cut where the one-pass regex cut it, as
    // both try the same alternatives at the same ESC and resume after the match.
    ESCAPE.lastIndex = at;
    ESCAPE.exec(raw);
    from = ESCAPE.lastIndex;
    at = raw.indexOf("\x1b", from);
  }
  kept.push(raw.slice(from));
  return kept.join("");
}

/** Control bytes, or characters that make a line look binary: one scan tells that a text holds none. */
// eslint-disable-next-line no-control-regex
const CONTROL_OR_ODD = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]/;

/**
 * The text without escapes and control bytes, and whether any of its characters looks binary. Most
 * captures hold neither once their escapes are gone: one class scan replaces the removal's and the
 * binary check's, and the text before the first hit is never scanned again.
 */
function cleaned(raw: string): { stripped: string; odd: boolean } {
  const text = withoutEscapes(raw);
  const first = text.search(CONTROL_OR_ODD);
  if (first === -1) return { stripped: text, odd: false };
  const rest = text.slice(first);
  // Control bytes are not ODD characters: the binary check may run before they are removed.
  return { stripped: text.slice(0, first) + rest.replace(CONTROL, ""), odd: ODD.test(rest) };
}

/** One line as the terminal last showed it: what follows the last carriage return wins. */
function lastRedraw(line: string): string {
  // Trailing carriage returns end the line, they do not clear it (a loop: /\r+$/ retries quadratically).
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === 13) end--;
  const at = line.lastIndexOf("\r", end - 1);
  return at === -1 || end === 0 ? line.slice(0, end) : line.slice(at + 1, end);
}

/** A separator rule is made of box-drawing characters and blanks: printable ASCII rules a line out at once. */
function isRule(line: string): boolean {
  const first = line.charCodeAt(0);
  return !(first > 32 && first < 127) && RULE.test(line);
}

/**
 * The capture's lines as the terminal last showed them: escapes and control bytes removed, redrawn
 * lines reduced to their final state, spinner frames and separator rules dropped, binary runs marked
 * once. Trailing spaces are kept: an agent UI that wraps long lines at the console width leaves them
 * at the break. `width` is the console width when the capture draws full-width rules.
 */
export function terminalLines(raw: string): { lines: string[]; width?: number } {
  const { stripped, odd } = cleaned(raw);
  // Spinners are removed line by line, after the redraw (a line whose last frame is a spinner is
  // empty), and only when the text holds any: one native scan of the whole saves a regex call a line.
  const spinner = SPINNER_ANY.test(stripped);
  const lines: string[] = [];
  const widths = new Map<number, number>();
  for (const rawLine of stripped.split("\n")) {
    let line = lastRedraw(rawLine);
    if (spinner && line.includes("...")) line = line.replace(SPINNER, "");
    if (line !== "" && isRule(line)) {
      if (line.length >= 40) widths.set(line.length, (widths.get(line.length) ?? 0) + 1);
      continue;
    }
    if (odd && looksBinary(line)) {
      if (lines[lines.length - 1] !== BINARY_MARKER) lines.push(BINARY_MARKER);
      continue;
    }
    lines.push(line);
  }
  const width = [...widths.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  return width === undefined ? { lines } : { lines, width };
}

/** The capture as the text a person reads (see terminalLines), trailing blanks removed. */
export function terminalText(raw: string): string {
  return terminalLines(raw)
    .lines.map((line) => line.trimEnd())
    .join("\n");
}

const isBox = (code: number) => code >= 0x2500 && code <= 0x257f;

/** A line that starts with a box-drawing character or ends with one (before trailing blanks). */
function isPanelRow(line: string): boolean {
  if (isBox(line.charCodeAt(0))) return true;
  const trimmed = line.trimEnd();
  return trimmed.length > 0 && isBox(trimmed.charCodeAt(trimmed.length - 1));
}

/** How far short of the console width a word-wrapped line may end: the longest word that did not fit. */
const WRAP_SLACK = 30;

/**
 * Lines an agent UI wrapped at the console width, joined again. A word-wrapped line ends with the
 * space it broke at, within a word's length of the width; a line as wide as the console was cut
 * where it stood. The break's space is kept when the UI left it, restored when it dropped it.
 */
export function unwrapLines(lines: string[], width: number | undefined): string[] {
  // trimEnd, not /\s+$/: the same characters, without the regex's quadratic retries on a long run of spaces.
  if (width === undefined) return lines.map((l) => l.trimEnd());
  const out: string[] = [];
  let pending = "";
  for (const line of lines) {
    const joined = pending + line;
    // A panel row (a traceback box) is as wide as the console by design, not wrapped.
    const wrapped = (line.length >= width - 1 || (line.length >= width - WRAP_SLACK && line.endsWith(" "))) && !isPanelRow(line);
    if (wrapped && line !== BINARY_MARKER) {
      pending = line.endsWith(" ") ? joined : `${joined} `;
      continue;
    }
    out.push(joined.trimEnd());
    pending = "";
  }
  if (pending) out.push(pending.trimEnd());
  return out;
}
