// A small coverage-guided fuzzer on V8's own block coverage (node:inspector, Profiler
// precise coverage with `detailed: true`), because @jazzer.js/core's prebuilt native fuzzer
// does not load here (docs/reliability-fuzz.md says why). Loop: pick inputs from the
// corpus, mutate them (bit flips, interesting bytes, dictionary tokens, splices, number
// swaps), run the target, read which blocks of the target's own source files ran, and keep
// an input that reached a block no earlier input did. Reading coverage costs far more than
// a parse (V8 reports every script), so inputs run in batches with one reading per batch;
// a batch that reached new blocks is bisected to find the inputs that did.
// Seeded: the same seed gives the same inputs in the same order; the time bound decides how
// many of them run.
import { createHash } from 'node:crypto';
import { Session } from 'node:inspector';

export interface FuzzTarget {
  name: string;
  /** Substrings of the script URLs whose coverage guides the fuzzer (the parser's files). */
  coverPaths: string[];
  /** Starting inputs (besides the files of test/fuzz/corpus/<name>/). */
  seeds(): Uint8Array[];
  /** Tokens worth inserting: keywords, delimiters, lengths. */
  dictionary: string[];
  maxLength: number;
  /**
   * Runs one input. Throws `FuzzFinding` (or anything else) when an invariant breaks: every
   * throw that is not the parser's typed refusal is a crash, and the target decides that.
   */
  run(input: Uint8Array): void;
}

/** An invariant the target checks, broken: the message says which. */
export class FuzzFinding extends Error {
  override name = 'FuzzFinding';
}

export interface Crash {
  target: string;
  kind: 'throw' | 'slow';
  message: string;
  /** The input, base64; also written to .tmp/fuzz-crashes/. */
  input: string;
  sha1: string;
}

export interface TargetReport {
  target: string;
  seed: number;
  seconds: number;
  inputs: number;
  corpus: number;
  /** Blocks (V8 block-coverage ranges) of the target's files reached. */
  features: number;
  /** Features reached by the seeds alone, before any mutation. */
  seedFeatures: number;
  crashes: Crash[];
  slowestMs: number;
}

export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** Inputs slower than this are run again; slow twice is a finding. */
  slowMs?: number;
  /** Stop after this many inputs even if time remains (exactly reproducible runs). */
  maxInputs?: number;
}

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Block coverage of the scripts a target names, as a set of feature keys per input. */
class Coverage {
  private readonly session = new Session();

  constructor(private readonly paths: string[]) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  /** Counts since the last call (precise coverage with callCount resets on each take). */
  take(): Set<string> {
    const { result } = this.post('Profiler.takePreciseCoverage') as {
      result: Array<{
        url: string;
        functions: Array<{ ranges: Array<{ startOffset: number; endOffset: number; count: number }> }>;
      }>;
    };
    const features = new Set<string>();
    for (const script of result) {
      if (!this.paths.some((p) => script.url.includes(p))) continue;
      for (const fn of script.functions) {
        for (const range of fn.ranges) {
          if (range.count === 0) continue;
          features.add(`${script.url}:${range.startOffset}:${range.endOffset}`);
        }
      }
    }
    return features;
  }

  close(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }

  /** Inspector calls on the main thread answer synchronously. */
  private post(method: string, params?: object): unknown {
    let answer: unknown;
    let failure: Error | null = null;
    this.session.post(method, params ?? {}, (error, result) => {
      failure = error;
      answer = result;
    });
    if (failure) throw failure;
    return answer;
  }
}

const BATCH = 64;
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x20, 0x2d, 0x30, 0x39, 0x3a, 0x22, 0x5c];
const NUMBERS = [
  '0',
  '-1',
  '1',
  '-0',
  '65535',
  '65536',
  '255',
  '256',
  '4294967296',
  '9007199254740993',
  '99999999999999999',
  '1e309',
  '00',
];

/** One to four stacked mutations of `input`; `other` is a corpus entry to splice from. */
export function mutate(
  input: Uint8Array,
  other: Uint8Array,
  dictionary: readonly Uint8Array[],
  random: () => number,
  maxLength: number,
): Uint8Array {
  let bytes = Array.from(input);
  const pick = (n: number) => Math.floor(random() * n);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = pick(bytes.length + 1);
    switch (pick(11)) {
      case 0:
        if (bytes.length > 0) bytes[at % bytes.length]! ^= 1 << pick(8);
        break;
      case 1:
        if (bytes.length > 0) bytes[at % bytes.length] = INTERESTING[pick(INTERESTING.length)]!;
        break;
      case 2:
        bytes.splice(at, 0, pick(256));
        break;
      case 3:
        bytes.splice(at, 1 + pick(8));
        break;
      case 4: {
        const from = pick(bytes.length + 1);
        const chunk = bytes.slice(from, from + 1 + pick(16));
        bytes.splice(at, 0, ...chunk);
        break;
      }
      case 5:
      case 6: {
        const token = dictionary.length > 0 ? dictionary[pick(dictionary.length)]! : Uint8Array.of(pick(256));
        if (random() < 0.5) bytes.splice(at, 0, ...token);
        else bytes.splice(at, token.length, ...token);
        break;
      }
      case 7: {
        // Splice: our head, the other's tail.
        const tail = Array.from(other.subarray(pick(other.length + 1)));
        bytes = bytes.slice(0, at).concat(tail);
        break;
      }
      case 8:
        bytes.length = Math.min(bytes.length, at);
        break;
      case 9: {
        // Replace a run of digits with an interesting number.
        const text = Buffer.from(bytes).toString('latin1');
        const runs = [...text.matchAll(/-?\d+/g)];
        if (runs.length === 0) break;
        const run = runs[pick(runs.length)]!;
        const number = NUMBERS[pick(NUMBERS.length)]!;
        bytes.splice(run.index!, run[0].length, ...Buffer.from(number, 'latin1'));
        break;
      }
      case 10:
        if (bytes.length > 0)
          bytes[at % bytes.length] = (bytes[at % bytes.length]! + (random() < 0.5 ? 1 : 255)) & 0xff;
        break;
    }
  }
  if (bytes.length > maxLength) bytes.length = maxLength;
  return Uint8Array.from(bytes);
}

/** Runs `target` for `options.seconds`; returns what it tried and found. */
export function fuzz(target: FuzzTarget, extraSeeds: Uint8Array[], options: FuzzOptions): TargetReport {
  const random = rng(options.seed);
  const dictionary = target.dictionary.map((t) => Buffer.from(t, 'utf8'));
  const coverage = new Coverage(target.coverPaths);
  const seen = new Set<string>();
  const corpus: Uint8Array[] = [];
  const crashes: Crash[] = [];
  const crashKeys = new Set<string>();
  const slowMs = options.slowMs ?? 1_000;
  let inputs = 0;
  let slowest = 0;

  /** Runs one input, recording a crash or a slow run. */
  const execute = (input: Uint8Array, first: boolean): void => {
    const started = performance.now();
    let failure: unknown = null;
    try {
      target.run(input);
    } catch (error) {
      failure = error;
    }
    const ms = performance.now() - started;
    if (!first) return;
    inputs++;
    slowest = Math.max(slowest, ms);
    if (failure !== null) record('throw', describeError(failure), input);
    else if (ms > slowMs && timeAgain(target, input) > slowMs) {
      record('slow', `${ms.toFixed(0)} ms for ${input.length} bytes`, input);
    }
  };
  const novel = (features: Set<string>) => [...features].some((f) => !seen.has(f));
  const covered = (batch: readonly Uint8Array[], first: boolean): Set<string> => {
    coverage.take(); // drop counts from the fuzzer's own work
    for (const input of batch) execute(input, first);
    return coverage.take();
  };
  /** Keeps the inputs of `batch` that reach blocks not seen yet (halving to find them). */
  const keepNovel = (batch: readonly Uint8Array[], features: Set<string>): void => {
    if (!novel(features)) return;
    if (batch.length === 1) {
      for (const f of features) seen.add(f);
      corpus.push(batch[0]!);
      return;
    }
    const half = batch.length >> 1;
    for (const part of [batch.slice(0, half), batch.slice(half)]) keepNovel(part, covered(part, false));
  };

  const record = (kind: Crash['kind'], message: string, input: Uint8Array) => {
    const key = `${kind}:${message.split('\n')[0]!.replace(/\d+/g, 'N')}`;
    if (crashKeys.has(key)) return;
    crashKeys.add(key);
    const sha1 = createHash('sha1').update(input).digest('hex');
    crashes.push({ target: target.name, kind, message, input: Buffer.from(input).toString('base64'), sha1 });
  };

  try {
    const seeds = [...target.seeds(), ...extraSeeds].map((s) => s.subarray(0, target.maxLength));
    for (const f of covered(seeds, true)) seen.add(f);
    corpus.push(...seeds);
    const seedFeatures = seen.size;
    const deadline = performance.now() + options.seconds * 1000;
    const limit = options.maxInputs ?? Number.POSITIVE_INFINITY;
    while (performance.now() < deadline && inputs < limit) {
      const batch: Uint8Array[] = [];
      for (let i = 0; i < BATCH && inputs + batch.length < limit; i++) {
        const base = corpus[Math.floor(random() * corpus.length)]!;
        const other = corpus[Math.floor(random() * corpus.length)]!;
        batch.push(mutate(base, other, dictionary, random, target.maxLength));
      }
      keepNovel(batch, covered(batch, true));
    }
    return {
      target: target.name,
      seed: options.seed,
      seconds: options.seconds,
      inputs,
      corpus: corpus.length,
      features: seen.size,
      seedFeatures,
      crashes,
      slowestMs: Math.round(slowest),
    };
  } finally {
    coverage.close();
  }
}

function timeAgain(target: FuzzTarget, input: Uint8Array): number {
  const started = performance.now();
  try {
    target.run(input);
  } catch {
    // recorded on the first run
  }
  return performance.now() - started;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `non-Error thrown: ${String(error)}`;
  const frame = error.stack?.split('\n').find((l) => l.trim().startsWith('at ')) ?? '';
  return `${error.name}: ${error.message.slice(0, 300)}\n${frame.trim()}`;
}
