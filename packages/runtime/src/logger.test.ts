import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { batchedWriter } from './batched-writer.js';
import { createLogger, droppedLinesNote, droppedLogLines, logJsonFields } from './logger.js';
import { createRegistry, registerLogDropMetric } from './metrics.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('writes JSON lines carrying the service name it was given', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'podgate-decision', level: 'info', destination }).info({ n: 1 }, 'hello');
    expect(lines).toEqual([expect.objectContaining({ service: 'podgate-decision', msg: 'hello', n: 1 })]);
  });

  it('drops lines below its level', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ service: 's', level: 'warn', destination });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines.map((l) => l.msg)).toEqual(['loud']);
  });
});

describe('logJsonFields', () => {
  const raw = () => {
    const text: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        text.push(chunk.toString('utf8'));
        done();
      },
    });
    return { text, destination };
  };
  const fields = {
    route: 'decisions',
    client: { ip: '10.0.0.1', port: 0 },
    decision: { allowed: true, s: 'q"\\\n' },
  };

  it('writes byte for byte the line pino writes for the same fields and message', () => {
    const ours = raw();
    const theirs = raw();
    const settings = { level: 'info', base: { service: 'podgate-decision' }, timestamp: () => ',"time":42' };
    logJsonFields(pino(settings, ours.destination), 'info', JSON.stringify(fields).slice(1, -1), 'decision');
    pino(settings, theirs.destination).info(fields, 'decision');
    expect(ours.text).toEqual(theirs.text);
    expect(ours.text).toHaveLength(1);
  });

  it('writes as pino does again after the bindings change and for each message of one logger', () => {
    const ours = raw();
    const theirs = raw();
    const settings = { level: 'info', base: { service: 's' }, timestamp: () => ',"time":42' };
    const mine = pino(settings, ours.destination);
    const pinos = pino(settings, theirs.destination);
    const text = JSON.stringify(fields).slice(1, -1);
    for (const [logger, write] of [
      [mine, (msg: string) => logJsonFields(mine, 'info', text, msg)],
      [pinos, (msg: string) => pinos.info(fields, msg)],
    ] as const) {
      write('decision');
      write('connection');
      logger.setBindings({ replica: 2 });
      write('decision');
    }
    expect(ours.text).toEqual(theirs.text);
    expect(ours.text).toHaveLength(3);
  });

  it("keeps a child logger's bindings and the level's number", () => {
    const { lines, destination } = capture();
    const child = createLogger({ service: 's', level: 'info', destination }).child({ part: 'x' });
    logJsonFields(child, 'warn', '"n":1', 'hello');
    expect(lines).toEqual([
      expect.objectContaining({ service: 's', part: 'x', level: 40, n: 1, msg: 'hello' }),
    ]);
  });

  it('writes nothing below the level', () => {
    const { lines, destination } = capture();
    logJsonFields(createLogger({ service: 's', level: 'warn', destination }), 'info', '"n":1', 'quiet');
    expect(lines).toEqual([]);
  });

  it('hands the fields to pino when the destination wants the object too (multistream)', () => {
    const { lines, destination } = capture();
    const logger = pino({ level: 'info' }, pino.multistream([{ stream: destination }]));
    logJsonFields(logger, 'info', '"n":1,"o":{"k":"v"}', 'hi');
    expect(lines).toEqual([expect.objectContaining({ n: 1, o: { k: 'v' }, msg: 'hi', level: 30 })]);
  });
});

describe('droppedLinesNote', () => {
  it('is a warning line in pino’s framing, with the count, the service and a newline', () => {
    const text = droppedLinesNote('podgate-proxy "x"')(1234);
    expect(text.endsWith('}\n')).toBe(true);
    const line = JSON.parse(text) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 40, service: 'podgate-proxy "x"', dropped: 1234 });
    expect(typeof line.time).toBe('number');
    expect(Object.keys(line).at(-1)).toBe('msg');
  });
});

describe('droppedLogLines and the metric', () => {
  it('counts what a buffered logger dropped, and a registry reports it at each scrape', async () => {
    const stalled: Array<() => void> = [];
    const writer = batchedWriter((_batch, done) => stalled.push(done), 100, 1000, { maxQueuedBytes: 300 });
    const logger = pino({ base: { service: 't' } }, writer);
    const registry = createRegistry();
    registerLogDropMetric(registry, 'podgate_test_log_lines_dropped_total', logger);
    expect(droppedLogLines(logger)).toBe(0);
    for (let i = 0; i < 100; i++) logger.info({ i }, 'line');
    const dropped = droppedLogLines(logger);
    expect(dropped).toBeGreaterThan(50);
    expect(await registry.metrics()).toContain(`podgate_test_log_lines_dropped_total ${dropped}`);
    // Monotonic: writing again after stdout reads again does not reset it.
    while (stalled.length > 0) stalled.shift()!();
    logger.info('after');
    expect(droppedLogLines(logger)).toBe(dropped);
    expect(droppedLogLines(pino())).toBe(0);
  });
});
