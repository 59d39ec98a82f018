import { describe, expect, it } from 'vitest';
import { bearerToken, parseTokenFile } from './tokens.js';

const A = 'tok-aaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'tok-bbbbbbbbbbbbbbbbbbbbbbbb=';

function tokens(text: string) {
  const parsed = parseTokenFile(text, 'tokens.txt');
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed;
}

describe('parseTokenFile', () => {
  it('takes one token a line, skipping blank lines, comments and surrounding space (CRLF too)', () => {
    const { tokens: set, warnings } = tokens(`# ops team\n${A}\r\n\n   ${B}  \n`);
    expect(set.count).toBe(2);
    expect(set.matches(A)).toBe(true);
    expect(set.matches(B)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('matches nothing else: a prefix, an extension, another case, empty', () => {
    const { tokens: set } = tokens(`${A}\n`);
    for (const wrong of [A.slice(0, -1), `${A}x`, A.toUpperCase(), '', ' ', `${A} `]) {
      expect(set.matches(wrong), JSON.stringify(wrong)).toBe(false);
    }
  });

  it('an empty file holds no token, and matches nothing', () => {
    const { tokens: set } = tokens('\n# nothing yet\n');
    expect(set.count).toBe(0);
    expect(set.matches(A)).toBe(false);
    expect(set.matches('')).toBe(false);
  });

  it('refuses a line that is not a bearer token, naming the line and never the text', () => {
    const parsed = parseTokenFile(`${A}\nsecret with spaces\n${B}\nBearer\tx\n`, 'tokens.txt');
    expect(parsed).toEqual({
      ok: false,
      reason: expect.stringMatching(/^tokens\.txt: line 2, 4: not a bearer token/),
    });
    expect(JSON.stringify(parsed)).not.toContain('secret');
  });

  it('warns about a short token', () => {
    expect(tokens('short\n').warnings).toEqual([
      'tokens.txt:1: token shorter than 16 characters: easy to guess',
    ]);
  });

  it('refuses absurdly long lines and never matches an absurdly long presented token', () => {
    expect(parseTokenFile('a'.repeat(5000), 'f').ok).toBe(false);
    expect(tokens(`${A}\n`).tokens.matches('a'.repeat(100_000))).toBe(false);
  });
});

describe('the accepted-token memory', () => {
  it('never accepts a wrong token, before or after the right one was accepted', () => {
    const { tokens: set } = tokens(`${A}\n${B}\n`);
    const wrong = [A.slice(0, -1), `${A}x`, `${A.slice(0, -1)}b`, A.toUpperCase(), `${B}=`, '', `${A} `];
    for (const w of wrong) expect(set.matches(w), JSON.stringify(w)).toBe(false);
    expect(set.matches(A)).toBe(true);
    expect(set.matches(A)).toBe(true);
    for (const w of wrong) expect(set.matches(w), JSON.stringify(w)).toBe(false);
    // Refused tokens are not remembered: only A is.
    expect(set.remembered).toBe(1);
  });

  it('is bounded: a file with many tokens, all presented, never holds more than the limit', () => {
    const many = Array.from({ length: 300 }, (_, i) => `tok-${String(i).padStart(20, '0')}`);
    const { tokens: set } = tokens(many.join('\n'));
    expect(set.rememberedLimit).toBe(300);
    const few = tokens(`${A}\n`).tokens;
    expect(few.rememberedLimit).toBe(64);
    for (const t of many) expect(set.matches(t)).toBe(true);
    expect(set.remembered).toBeLessThanOrEqual(set.rememberedLimit);
    for (let round = 0; round < 3; round++) {
      for (const t of many) expect(set.matches(t)).toBe(true);
      expect(set.remembered).toBeLessThanOrEqual(set.rememberedLimit);
    }
  });

  it('belongs to one token file: a new file (a reload) does not accept a remembered token it lacks', () => {
    const before = tokens(`${A}\n`).tokens;
    expect(before.matches(A)).toBe(true);
    const after = tokens(`${B}\n`).tokens;
    expect(after.matches(A)).toBe(false);
    expect(after.matches(B)).toBe(true);
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER  abc ', 'abc'],
  ])('%j -> %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([undefined, null, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'Bearerabc', 'Token abc'])(
    'refuses %j',
    (header) => {
      expect(bearerToken(header)).toBeNull();
    },
  );
});
