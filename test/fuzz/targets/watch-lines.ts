// The watcher's watch stream: bytes from the API server (or whatever answers on its address)
// split into lines (LineSplitter) and each line read as an event (parseWatchEvent).
// Invariants: the only throw is WatcherError kube_api_protocol; the splitter throws exactly
// when a line (or the unfinished tail) is longer than its bound, and otherwise returns every
// newline-ended line, decoded as the same bytes decode whole, however the stream was cut.
import { WatcherError } from '../../../services/watcher/src/errors.js';
import { parseWatchEvent } from '../../../services/watcher/src/sources/kube-api.js';
import { LineSplitter } from '../../../services/watcher/src/sources/kube-http.js';
import { FuzzFinding, type FuzzTarget } from '../harness.js';

const MAX_LINE = 96;

export const watchLinesTarget: FuzzTarget = {
  name: 'watch-lines',
  coverPaths: ['/services/watcher/src/sources/kube-http.ts', '/services/watcher/src/sources/kube-api.ts'],
  maxLength: 1024,
  dictionary: [
    '\n',
    '\r\n',
    '{"type":"ADDED","object":{}}',
    '"type"',
    '"object"',
    'BOOKMARK',
    'ERROR',
    'null',
    '[]',
    '{}',
    '"',
    ':',
    ',',
    '\u00e9',
    '\ud83d\ude00',
    '__proto__',
  ],
  seeds: () =>
    [
      '{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}}\n{"type":"BOOKMARK","object":{}}\n',
      '{"type":"ERROR","object":{"code":410}}\n\n  \n',
      '{"type":"MODIFIED","object":{"metadata":{"annotations":{"k8s.ngrok.com/\u00e9":"\ud83d\ude00"}}}}\n{"type":',
      '["ADDED"]\nnull\n{"type":"__proto__"}\n',
    ].map((s) => Buffer.from(s, 'utf8')),
  run(input) {
    const bytes = Buffer.from(input);
    const splitter = new LineSplitter(MAX_LINE);
    const cuts = [...bytes.subarray(0, 3)].map((b) => b % (bytes.length + 1)).sort((a, b) => a - b);
    const lines: string[] = [];
    let refused = false;
    try {
      let from = 0;
      for (const cut of [...cuts, bytes.length]) {
        lines.push(...splitter.push(bytes.subarray(from, Math.max(from, cut))));
        from = Math.max(from, cut);
      }
    } catch (error) {
      if (!(error instanceof WatcherError) || error.code !== 'kube_api_protocol') throw error;
      refused = true;
    }
    const segments = splitSegments(bytes);
    const tooLong = segments.some((s) => s.length > MAX_LINE);
    if (refused !== tooLong)
      throw new FuzzFinding(
        `splitter ${refused ? 'refused' : 'accepted'} lines of at most ${Math.max(...segments.map((s) => s.length))} bytes`,
      );
    if (refused) return;
    const complete = segments.slice(0, -1).map((s) => s.toString('utf8'));
    if (JSON.stringify(lines) !== JSON.stringify(complete))
      throw new FuzzFinding('lines differ from the newline-split stream');
    for (const raw of lines) {
      const line = raw.trim();
      if (line === '') continue;
      try {
        const event = parseWatchEvent(line);
        if (typeof event.type !== 'string') throw new FuzzFinding('event without a type');
      } catch (error) {
        if (!(error instanceof WatcherError) || error.code !== 'kube_api_protocol') throw error;
      }
    }
  },
};

/** The stream cut at every newline; the last segment is the unfinished tail. */
function splitSegments(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, from)) {
    out.push(bytes.subarray(from, nl));
    from = nl + 1;
  }
  out.push(bytes.subarray(from));
  return out;
}
