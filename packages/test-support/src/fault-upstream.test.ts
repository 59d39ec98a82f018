import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaultUpstream, startFaultUpstream, type UpstreamArrival } from './fault-upstream.js';

/** Sends `text`, returns what came back before the close (or `timeoutMs`). */
function talk(port: number, text: string, timeoutMs = 1_000): Promise<{ got: string; how: string }> {
  return new Promise((resolve) => {
    let got = '';
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ got, how: 'timeout' });
    }, timeoutMs);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (d) => {
      got += d.toString();
    });
    socket.on('error', () => {});
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      resolve({ got, how: hadError ? 'reset' : 'closed' });
    });
    socket.setTimeout(300, () => socket.end());
  });
}

describe('startFaultUpstream', () => {
  let upstream: FaultUpstream | undefined;
  afterEach(async () => {
    await upstream?.close();
  });

  it('reads the PROXY v1 header (the client it names), echoes, stalls and resets as told', async () => {
    upstream = await startFaultUpstream();
    const arrivals: UpstreamArrival[] = [];
    upstream.onArrival((a) => arrivals.push(a));
    expect((await talk(upstream.port, 'PROXY TCP4 127.0.0.9 127.0.0.1 4000 5432\r\nhello')).got).toBe(
      'hello',
    );
    expect(arrivals).toMatchObject([{ clientIp: '127.0.0.9', clientPort: 4000 }]);

    upstream.mode = 'stall';
    expect((await talk(upstream.port, 'PROXY TCP4 127.0.0.9 127.0.0.1 4001 5432\r\nhello', 600)).got).toBe(
      '',
    );
    upstream.mode = 'reset';
    expect(await talk(upstream.port, 'PROXY TCP4 127.0.0.9 127.0.0.1 4002 5432\r\nhello')).toMatchObject({
      got: '',
      how: 'reset',
    });
    expect(arrivals).toHaveLength(3);

    // No header, or a bad one: counted, closed, nothing echoed.
    upstream.mode = 'echo';
    expect((await talk(upstream.port, 'hello\r\n')).got).toBe('');
    expect(upstream.badHeaders).toBe(1);
    expect(arrivals).toHaveLength(3);
  });
});
