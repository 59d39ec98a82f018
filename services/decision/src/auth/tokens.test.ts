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
