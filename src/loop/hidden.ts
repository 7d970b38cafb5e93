import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * A value kept out of sight in Markdown people can edit (a pull request or issue description): JSON in
 * an HTML comment, base64 so that `-->` and any trace text inside cannot end the comment early, and a
 * seal (HMAC-SHA256) that only a holder of the key can produce. Anyone who can edit the text can change
 * it, so a value whose seal does not verify is no value at all, and what does verify is still checked
 * by the caller's `parse`.
 */
export interface HiddenValue<T> {
  encode(value: T): string;
  /** The value in `text`, or null when there is none whose seal verifies and that passes `parse`. */
  decode(text: string | null | undefined): T | null;
  /** `text` with its value replaced by `value` (appended when it has none); every other copy is removed. */
  replace(text: string, value: T): string;
}

/** The key hidden values are sealed with (on GitHub: SELFHARNESS_STATE_KEY, or derived from the app's private key). */
export interface StateKey {
  readonly secret: Uint8Array;
}

export function stateKey(secret: string | Uint8Array): StateKey {
  if (secret.length === 0) throw new Error("the state key is empty");
  return { secret: typeof secret === "string" ? Buffer.from(secret, "utf8") : secret };
}

/** Bound on what is decoded: a description is at most 65,536 characters anyway. */
const MAX_ENCODED = 70_000;

export function hiddenValue<T>(marker: string, key: StateKey, parse: (value: unknown) => T | null): HiddenValue<T> {
  const pattern = new RegExp(`<!-- ${marker} ([A-Za-z0-9+/=]{1,${MAX_ENCODED}}) ([0-9a-f]{64}) -->`, "g");
  // Any comment with the marker, sealed or not, so that a forged one never stays next to the real one.
  // No leading `\n*` (retried from every newline of a run of blank lines, quadratic) and no `<` inside
  // (each search stops at the next comment): the blank lines before a copy are trimmed below.
  const anyCopy = new RegExp(`<!-- ${marker} [^<>]*-->\\n?`, "g");
  const seal = (payload: string) => createHmac("sha256", key.secret).update(`${marker}\0${payload}`).digest("hex");
  const encode = (value: T) => {
    const payload = Buffer.from(JSON.stringify(value), "utf8").toString("base64");
    return `<!-- ${marker} ${payload} ${seal(payload)} -->`;
  };
  return {
    encode,
    decode(text) {
      // A forged comment placed before the real one is passed over, not taken.
      for (const match of (text ?? "").matchAll(pattern)) {
        if (!timingSafeEqual(Buffer.from(seal(match[1]!), "hex"), Buffer.from(match[2]!, "hex"))) continue;
        try {
          return parse(JSON.parse(Buffer.from(match[1]!, "base64").toString("utf8")));
        } catch {
          return null;
        }
      }
      return null;
    },
    replace(text, value) {
      const pieces = text.split(anyCopy);
      const kept = pieces.map((piece, i) => (i < pieces.length - 1 ? withoutTrailingNewlines(piece) : piece)).join("");
      return `${kept.trimEnd()}\n\n${encode(value)}\n`;
    },
  };
}

function withoutTrailingNewlines(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 10) end--;
  return text.slice(0, end);
}
