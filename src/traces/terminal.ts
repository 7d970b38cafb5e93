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

/**
 * The last redraw of the line at `start` (`cut` before its trailing carriage returns, `end` at its
 * break), cleaned: the last of the parts between its carriage returns that is not empty once
 * cleaned, which is what cleaning the whole line and then taking its last redraw gives, since no
 * sequence but an OSC can hold a carriage return. A spinner redraws one line dozens of times; only
 * its last frames are cleaned. Undefined when no carriage return comes before `cut`, or the line
 * holds an OSC: it is cleaned whole.
 */
function lastRedrawOf(raw: string, start: number, cut: number, end: number): string | undefined {
  // The line alone: no search here may run past it.
  const line = raw.slice(start, end);
  let at = line.lastIndexOf("\r", cut - start - 1);
  if (at === -1 || line.includes("\x1b]")) return undefined;
  for (let stop = cut - start; ; ) {
    // The part alone, too: a search for its next escape must not run on to the end of the line.
    const part = line.slice(at + 1, stop);
    const text = cleanLines(part, 0, part.length, nextEsc(part, 0)).text;
    if (text !== "" || at === -1) return text;
    stop = at;
    at = at === 0 ? -1 : line.lastIndexOf("\r", at - 1);
  }
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

/** Lines as the capture shows them, each with where its text starts in the capture when `located`. */
class Screen {
  constructor(private readonly located: boolean) {}

  readonly lines: string[] = [];
  /** Where each line's text starts in the capture; for lines cleaned together, where the first starts. */
  readonly starts: number[] = [];
  /** Lines that went through cleaning: their text may join what the capture holds apart (an escape inside a word). */
  readonly cleaned: boolean[] = [];
  private readonly widths = new Map<number, number>();

  /** A line with nothing special in it but its text, at `at` in the capture: a rule, or a line as it stands. */
  plain(line: string, at: number): void {
    if (line !== "" && isRule(line)) this.rule(line);
    else this.push(line, at, false);
  }

  /** A cleaned line that may still hold redraws, a spinner frame or binary bytes. */
  cleanedLine(rawLine: string, at: number): void {
    let line = lastRedraw(rawLine);
    // After the redraw: a line whose last frame is a spinner is empty.
    if (line.includes("...")) line = line.replace(SPINNER, "");
    if (line !== "" && isRule(line)) this.rule(line);
    else if (looksBinary(line)) {
      if (this.lines[this.lines.length - 1] !== BINARY_MARKER) this.push(BINARY_MARKER, at, true);
    } else this.push(line, at, true);
  }

  private push(line: string, at: number, cleaned: boolean): void {
    this.lines.push(line);
    if (!this.located) return;
    this.starts.push(at);
    this.cleaned.push(cleaned);
  }

  private rule(line: string): void {
    if (line.length >= 40) this.widths.set(line.length, (this.widths.get(line.length) ?? 0) + 1);
  }

  /** The width most full-width rules have. */
  width(): number | undefined {
    return [...this.widths.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  }
}

/** The capture read into lines (see terminalLines), located in it when asked. */
function readScreen(raw: string, located: boolean): Screen {
  const screen = new Screen(located);
  let special = nextSpecial(raw, 0);
  let esc = special < raw.length ? nextEsc(raw, special) : raw.length;
  for (let start = 0; start <= raw.length; ) {
    const newline = raw.indexOf("\n", start);
    let end = newline === -1 ? raw.length : newline;
    let cut = end;
    if (special < end) while (cut > start && raw.charCodeAt(cut - 1) === 13) cut--;
    // Nothing special but the carriage returns that end the line: the line is its text.
    const redrawn = special < cut ? lastRedrawOf(raw, start, cut, end) : undefined;
    if (special >= cut) screen.plain(raw.slice(start, cut), start);
    else if (redrawn !== undefined) {
      screen.cleanedLine(redrawn, start);
      if (esc < end) esc = nextEsc(raw, end);
    } else {
      const cleaned = cleanLines(raw, start, end, esc);
      for (const line of cleaned.text.split("\n")) screen.cleanedLine(line, start);
      ({ end, esc } = cleaned);
    }
    if (special < end) special = nextSpecial(raw, end);
    start = end + 1;
  }
  return screen;
}

/**
 * The capture's lines as the terminal last showed them: escapes and control bytes removed, redrawn
 * lines reduced to their final state, spinner frames and separator rules dropped, binary runs marked
 * once. Trailing spaces are kept: an agent UI that wraps long lines at the console width leaves them
 * at the break. `width` is the console width when the capture draws full-width rules.
 */
export function terminalLines(raw: string): { lines: string[]; width?: number } {
  const screen = readScreen(raw, false);
  const width = screen.width();
  return width === undefined ? { lines: screen.lines } : { lines: screen.lines, width };
}

/** The capture as the text a person reads (see terminalLines), trailing blanks removed. */
export function terminalText(raw: string): string {
  return terminalLines(raw)
    .lines.map((line) => line.trimEnd())
    .join("\n");
}

/** Moves each word's next occurrence (in `next`) to the first at or after `start`; returns the soonest. */
function nextOccurrence(raw: string, words: readonly string[], next: number[], start: number): number {
  let soonest = raw.length;
  for (let k = 0; k < words.length; k++) {
    if (next[k]! < start) {
      const at = raw.indexOf(words[k]!, start);
      next[k] = at === -1 ? raw.length : at;
    }
    soonest = Math.min(soonest, next[k]!);
  }
  return soonest;
}

/** A capture read into lines and unwrapped (terminalLines, then unwrapLines). */
export interface CaptureLines {
  lines: string[];
  /**
   * The indices, from `from` on and in order, of the lines that may hold one of `words`: every line
   * that does, and few that do not. A native search of the capture stands for a search of each line.
   */
  mayHold(words: readonly string[], from: number): number[];
}

/**
 * Reads a capture into unwrapped lines that know where their text lies in it. A line taken as it
 * stood (and lines joined from such) holds a word only where the capture holds it between that
 * line's start and the next line's: joins add a blank, so no word spans two. A cleaned line may
 * hold words the capture only holds split, and is always a candidate.
 */
export function readCapture(raw: string): CaptureLines {
  const screen = readScreen(raw, true);
  const { lines, first } = unwrap(screen.lines, screen.width());
  const starts = first.map((piece) => screen.starts[piece]!);
  // A joined line is cleaned when any of its pieces is.
  const cleaned = first.map(() => false);
  for (let i = 0, piece = 0; i < first.length; i++) {
    for (const stop = first[i + 1] ?? screen.lines.length; piece < stop; piece++) if (screen.cleaned[piece]) cleaned[i] = true;
  }
  const mayHold = (words: readonly string[], from: number): number[] => {
    const found: number[] = [];
    // Where each word next occurs at or after the current line's start, and the soonest of them:
    // searched again only once a line starts past it, so no part of the capture is searched twice.
    const next = words.map(() => -1);
    let soonest = -1;
    for (let i = from; i < lines.length; i++) {
      const start = starts[i]!;
      if (soonest < start) soonest = nextOccurrence(raw, words, next, start);
      if (cleaned[i] || soonest < (starts[i + 1] ?? raw.length)) found.push(i);
    }
    return found;
  };
  return { lines, mayHold };
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
  return unwrap(lines, width).lines;
}

/** The lines unwrapped (see unwrapLines), and for each the index of the first line it joins. */
function unwrap(lines: string[], width: number | undefined): { lines: string[]; first: number[] } {
  // trimEnd, not /\s+$/: the same characters, without the regex's quadratic retries on a long run of spaces.
  if (width === undefined) return { lines: lines.map((l) => l.trimEnd()), first: lines.map((_, i) => i) };
  const out: string[] = [];
  const first: number[] = [];
  let pending = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (pending === "") first.push(i);
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
  return { lines: out, first };
}
