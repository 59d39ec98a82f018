import { describe, expect, it } from 'vitest';
import { parseWatchEvent } from './kube-api.js';

describe('parseWatchEvent', () => {
  it.each(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'])('accepts a %s event', (type) => {
    expect(parseWatchEvent(JSON.stringify({ type, object: { a: 1 } }))).toEqual({ type, object: { a: 1 } });
  });

  it.each([
    ['not JSON', '{oops', /not JSON/],
    ['null', 'null', /not an event object/],
    ['a number', '5', /not an event object/],
    ['an array', '[{"type":"ADDED"}]', /not an event object/],
    ['no type', '{"object":{}}', /unknown type undefined/],
    ['a numeric type', '{"type":5}', /unknown type 5/],
    ['an unknown type', '{"type":"EXPLODE"}', /unknown type "EXPLODE"/],
    ['a lower-case type', '{"type":"added"}', /unknown type "added"/],
  ])('refuses %s with kube_api_protocol', (_name, line, message) => {
    expect(() => parseWatchEvent(line)).toThrowError(
      expect.objectContaining({ code: 'kube_api_protocol', message: expect.stringMatching(message) }),
    );
  });

  it('keeps an attacker-chosen type out of the message beyond a short prefix', () => {
    expect(() => parseWatchEvent(JSON.stringify({ type: 'x'.repeat(10_000) }))).toThrowError(
      expect.objectContaining({
        message: expect.stringMatching(/^watch sent an event of unknown type "x{39}$/),
      }),
    );
  });
});
