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

/**
 * What may make a line more than its text and trailing carriage returns: an ESC or another control
 * byte (a carriage return too: most end a line, a few redraw it), a character that looks binary, a
 * spinner's braille frame. One class scan over the capture finds them; the lines between are taken
 * as they stand, and only the lines that hold one are cleaned.
 */
// eslint-disable-next-line no-control-regex
const SPECIAL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2800-\u28ff\ufffd\ue000-\uf8ff]/g;

/** Where the next special character at or after `from` stands; the text's length when there is none. */
function nextSpecial(raw: string, from: number): number {
  SPECIAL.lastIndex = from;
  // test, not exec: no match array for each of the (many) carriage returns.
  return SPECIAL.test(raw) ? SPECIAL.lastIndex - 1 : raw.length;
}

/**
 * The text of the lines from `start` on, without escape sequences and control bytes, and where it
 * ends: at the end of the line at `end`, or of a later line when a sequence spans line breaks (a
 * window title may). `esc` is where the next ESC at or after `start` stands (the text's length when
 * none does); the next one after the lines comes back, so that no character is searched twice.
 * Each sequence is cut where a one-pass regex over the whole capture would cut it: both try the same
 * alternatives at the same ESC and resume after the match, and no match begins before `start`, a
 * line start outside any sequence.
 */
function cleanLines(raw: string, start: number, end: number, esc: number): { text: string; end: number; esc: number } {
  if (esc >= end) return { text: raw.slice(start, end).replace(CONTROL, ""), end, esc };
  const kept: string[] = [];
  let from = start;
  while (esc < end) {
    kept.push(raw.slice(from, esc));
    // Always matches: the ESC alone at least.
    ESCAPE.lastIndex = esc;
    ESCAPE.exec(raw);
    from = ESCAPE.lastIndex;
    if (from > end) {
      const next = raw.indexOf("\n", from);
      end = next === -1 ? raw.length : next;
    }
    esc = nextEsc(raw, from);
  }
  kept.push(raw.slice(from, end));
  return { text: kept.join("").replace(CONTROL, ""), end, esc };
}

function nextEsc(raw: string, from: number): number {
  const at = raw.indexOf("\x1b", from);
  return at === -1 ? raw.length : at;
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

/** Lines as the capture shows them, with the console width its separator rules give away. */
class Screen {
  readonly lines: string[] = [];
  private readonly widths = new Map<number, number>();

  /** A line with nothing special in it but its text: a rule, or a line as it stands. */
  plain(line: string): void {
    if (line !== "" && isRule(line)) this.rule(line);
    else this.lines.push(line);
  }

  /** A cleaned line that may still hold redraws, a spinner frame or binary bytes. */
  cleaned(rawLine: string): void {
    let line = lastRedraw(rawLine);
    // After the redraw: a line whose last frame is a spinner is empty.
    if (line.includes("...")) line = line.replace(SPINNER, "");
    if (line !== "" && isRule(line)) this.rule(line);
    else if (looksBinary(line)) {
      if (this.lines[this.lines.length - 1] !== BINARY_MARKER) this.lines.push(BINARY_MARKER);
    } else this.lines.push(line);
  }

  private rule(line: string): void {
    if (line.length >= 40) this.widths.set(line.length, (this.widths.get(line.length) ?? 0) + 1);
  }

  /** The width most full-width rules have. */
  width(): number | undefined {
    return [...this.widths.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  }
}

/**
 * The capture's lines as the terminal last showed them: escapes and control bytes removed, redrawn
 * lines reduced to their final state, spinner frames and separator rules dropped, binary runs marked
 * once. Trailing spaces are kept: an agent UI that wraps long lines at the console width leaves them
 * at the break. `width` is the console width when the capture draws full-width rules.
 */
export function terminalLines(raw: string): { lines: string[]; width?: number } {
  const screen = new Screen();
  let special = nextSpecial(raw, 0);
  let esc = special < raw.length ? nextEsc(raw, special) : raw.length;
  for (let start = 0; start <= raw.length; ) {
    const newline = raw.indexOf("\n", start);
    let end = newline === -1 ? raw.length : newline;
    let cut = end;
    if (special < end) while (cut > start && raw.charCodeAt(cut - 1) === 13) cut--;
    // Nothing special but the carriage returns that end the line: the line is its text.
    if (special >= cut) screen.plain(raw.slice(start, cut));
    else {
      const cleaned = cleanLines(raw, start, end, esc);
      for (const line of cleaned.text.split("\n")) screen.cleaned(line);
      ({ end, esc } = cleaned);
    }
    if (special < end) special = nextSpecial(raw, end);
    start = end + 1;
  }
  const width = screen.width();
  return width === undefined ? { lines: screen.lines } : { lines: screen.lines, width };
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
