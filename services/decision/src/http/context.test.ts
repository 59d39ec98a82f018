import { describe, expect, it } from 'vitest';
import { type AppContext, peerOf } from './context.js';

const on = (socket: { remoteAddress?: string; remotePort?: number } | undefined) =>
  ({ env: { incoming: socket === undefined ? {} : { socket } } }) as unknown as AppContext;

describe('peerOf', () => {
  it('is the canonical peer of each socket, worked out once per socket', () => {
    const a = { remoteAddress: '::ffff:10.0.0.7', remotePort: 5000 };
    const b = { remoteAddress: '2001:0db8::0001', remotePort: 6000 };
    expect(peerOf(on(a))).toEqual({ ip: '10.0.0.7', port: 5000 });
    expect(peerOf(on(a))).toBe(peerOf(on(a)));
    expect(peerOf(on(b))).toEqual({ ip: '2001:db8::1', port: 6000 });
  });

  it('is null without a socket or an address (a socket already closed), and then not remembered', () => {
    expect(peerOf(on(undefined))).toBeNull();
    const closing: { remoteAddress?: string; remotePort?: number } = {};
    expect(peerOf(on(closing))).toBeNull();
    closing.remoteAddress = '127.0.0.1';
    expect(peerOf(on(closing))).toEqual({ ip: '127.0.0.1', port: 0 });
  });
});
