// V8 settings for a process that answers connections or requests (the proxy, the decision
// service): every request allocates a little state that dies within milliseconds, and the
// young-generation collector (the scavenger) should find almost none of it alive.
//
// V8's allocation-site pretenuring works against that. When most objects from one allocation
// site (an object or array literal) are alive at a scavenge, and the young generation is at its
// maximum size, V8 starts allocating that site's objects directly in the old generation. A
// request's state is then born old: whatever young objects are stored into it later (a lookup's
// answer, a decision, buffers, closures) are recorded as old-to-new references, and once the
// request is over those references still count as live for every scavenge until the next full
// collection, which copies and promotes them. Measured on the proxy at 1,000 connections a second
// (Node.js 20, one core, --trace-gc-nvp): 3.3 MB surviving each scavenge and 10.6 ms pauses
// (medians) with pretenuring, 0.4-0.7 MB and 2.0-2.3 ms without (docs/adr/0009-no-pretenuring.md).
import v8 from 'node:v8';

/** The V8 flag this sets; a test checks that the running Node.js still knows it. */
export const NO_PRETENURING_FLAG = '--no-allocation-site-pretenuring';
/** Given to node explicitly, V8's default stays: the operator's way back, and the bench's baseline. */
export const KEEP_PRETENURING_FLAG = '--allocation-site-pretenuring';

/**
 * Turns allocation-site pretenuring off for this process, unless node was started with
 * `--allocation-site-pretenuring`. V8 reads the flag at each collection, so calling this at
 * start-up, after modules have loaded, is enough. Returns whether it did.
 */
export function tuneHeapForRequests(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.includes(KEEP_PRETENURING_FLAG)) return false;
  v8.setFlagsFromString(NO_PRETENURING_FLAG);
  return true;
}

/**
 * How far the old generation may grow past what a full collection found alive before the next
 * one: 300% (4x), the ceiling V8 itself uses on machines with plenty of memory. V8 picks the
 * factor per collection from its GC speed against the allocation rate, which is what it
 * optimises (throughput); for the decision service it picked about 1.5x (20 MB alive, the next
 * full collection at about 30 MB), so under load a mark-compact came every 3-5 s, each a pause of
 * 6-16 ms in front of every request in flight: the p99 at 50 connections. Measured side by side
 * (6 alternating wrk rounds, --trace-gc): 3 full collections in 90 s instead of 12, p99 6.9-8.7
 * ms instead of 8.8-16.4 ms, the same CPU per decision (docs/adr/0010-heap-growth.md). V8 still
 * bounds the limit at halfway between the heap's size and its maximum (--max-old-space-size).
 */
export const HEAP_GROWING_PERCENT = 300;
const HEAP_GROWING_FLAG = '--heap-growing-percent';

/**
 * Sets V8's old-generation growing factor for this process, unless node was started with a
 * growing factor of its own (`--heap-growing-percent=N`, the operator's way to choose). V8
 * reads it each time it sets the next full collection's limit, so setting it at start-up is
 * enough (a test checks the running Node.js honours it). Returns the flag set, or null.
 */
export function tuneHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  percent: number = HEAP_GROWING_PERCENT,
): string | null {
  if (execArgv.some((a) => a.replaceAll('_', '-').startsWith(HEAP_GROWING_FLAG))) return null;
  const flag = `${HEAP_GROWING_FLAG}=${percent}`;
  v8.setFlagsFromString(flag);
  return flag;
}

/** The node flag that turns V8's Maglev compiler off (the manifests give it to the proxy). */
export const NO_MAGLEV_FLAG = '--no-maglev';

/**
 * A warning for the proxy started on Node.js 24 or later with V8's Maglev compiler on (its
 * default), or null. Measured on the proxy at 1,000 connections a second on Node.js 24
 * (--trace-gc-nvp, two runs each): 3.2 MB surviving each scavenge and 12-14 ms pauses with
 * Maglev, 43-46 KB and 1.7-1.9 ms without, and less CPU per connection without (wrk, 6
 * alternating rounds). Node.js 22 runs Maglev too but did not show this (docs/proxy.md), so it
 * is not warned about. V8 reads the flag only at start (setting it from the running process
 * changed nothing, measured), and NODE_OPTIONS may not carry it: node must be started with it.
 */
export function maglevWarning(
  nodeVersion: string = process.versions.node,
  execArgv: readonly string[] = process.execArgv,
): string | null {
  const major = Number(nodeVersion.split('.')[0]);
  if (!(major >= 24) || execArgv.includes(NO_MAGLEV_FLAG) || execArgv.includes('--maglev')) return null;
  return `node runs V8's Maglev compiler (Node.js ${nodeVersion}): at high connection rates it keeps finished connections alive through young-generation collections (pauses of 10+ ms measured); start node with ${NO_MAGLEV_FLAG} (the shipped manifests do), or with --maglev to keep it and silence this`;
}
