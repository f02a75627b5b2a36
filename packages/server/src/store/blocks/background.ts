// Background threads (flush, compaction) yield the CPU to the threads that
// answer clients: on a loaded 2-core machine a request's round trip is
// mostly waiting for a core, and a flush or a merge can just as well run a
// little later (backpressure bounds how much later).

import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Nice value of a background thread: below everything else, above idle. */
const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's scheduling priority (Linux: setpriority on its
 * thread id, which /proc/thread-self names). Best effort: elsewhere, or if
 * it is not allowed, nothing changes.
 */
export function runInBackground(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, BACKGROUND_NICE);
  } catch {
    // not Linux, or not permitted: the thread keeps its priority
  }
}
