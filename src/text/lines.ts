/**
 * True when a line of `text` has `then` somewhere after a `keyword`: what `keyword[^\n]*then` says as
 * one regex, which retries from every keyword of a line and takes quadratic time on a hostile one
 * ("curl curl curl …"). Here each line is tried once, after its first keyword: a later keyword on the
 * same line only sees less of it. `then` should not look behind its start.
 */
export function laterOnLine(text: string, keyword: RegExp, then: RegExp): boolean {
  const find = new RegExp(keyword.source, keyword.flags.includes("g") ? keyword.flags : `${keyword.flags}g`);
  for (let match = find.exec(text); match; match = find.exec(text)) {
    let lineEnd = text.indexOf("\n", match.index);
    if (lineEnd === -1) lineEnd = text.length;
    if (then.test(text.slice(match.index + match[0].length, lineEnd))) return true;
    find.lastIndex = Math.max(lineEnd, match.index + 1);
  }
  return false;
}
