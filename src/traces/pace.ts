import { setImmediate as nextTurn } from "node:timers/promises";

/** Longest stretch of reading or mining work between two turns of the event loop. */
const SLICE_MS = 20;
let sliceStart = performance.now();

/**
 * Gives the event loop a turn when the current stretch of work has run `SLICE_MS`. Reading from an
 * archive in memory, and mining, run on promises alone, which never let timers and sockets in: the
 * app answering GitHub in the same process must not wait for an artifact. Call between files,
 * trials and other units of bounded work.
 */
export async function breathe(): Promise<void> {
  if (performance.now() - sliceStart < SLICE_MS) return;
  await nextTurn();
  sliceStart = performance.now();
}
