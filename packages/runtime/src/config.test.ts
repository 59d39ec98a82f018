import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig, presentOnly } from './config.js';

const schema = z.object({
  name: z.string({ error: '--name is required' }),
  port: z.number({ error: '--port: expected a number' }).default(80),
});

describe('parseConfig', () => {
  it('gives the parsed configuration with its defaults', () => {
    expect(parseConfig(schema, { name: 'a' })).toEqual({ ok: true, config: { name: 'a', port: 80 } });
  });

  it('lists every problem, one per line', () => {
    expect(parseConfig(schema, { port: 'x' })).toEqual({
      ok: false,
      message: '--name is required\n--port: expected a number',
    });
  });
});

describe('presentOnly', () => {
  it('drops undefined and empty values, keeps false and 0', () => {
    expect(presentOnly({ a: undefined, b: '', c: false, d: 0, e: 'x' })).toEqual({ c: false, d: 0, e: 'x' });
  });
});
