// Attacks on the real `podgate proxy` process (test/attack-driver.ts runs each one and prints
// what happened): things a client can do that only show as the process dying.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../..', import.meta.url).pathname;
const driver = 'services/proxy/test/attack-driver.ts';

/** A network namespace of our own (root, or an unprivileged user namespace) with `ip`. */
function canUnshareNet(): boolean {
  try {
    execFileSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

async function scenario(command: string, args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(command, args, { cwd: root, timeout: 40_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe('attack: the proxy process', () => {
  // DEFECT (crash an outsider can cause). A client that reaches a dual-stack listener over a
  // link-local IPv6 address (a pod on the same L2 segment, or any host on the node's link) is
  // reported by Node with its zone: socket.remoteAddress === 'fe80::1%lo'. connection.ts
  // calls normalizeIp(socket.remoteAddress) outside any try, normalizeIp throws invalid_ip on
  // the zone, handleConnection's promise rejects, nobody catches it (proxy.ts `void
  // handleConnection(...)`), and Node ends the process on the unhandled rejection: one
  // connection kills every connection the proxy carries. The same holds for
  // socket.localAddress (serverIp). Right behaviour: the zone is dropped (or the address is
  // refused as unidentifiable), that one connection is closed and logged, the process keeps
  // serving. Fix: strip `%zone` before normalizing (or use tryNormalizeIp and refuse on
  // null), and catch in proxy.ts's accept so no future throw can escape.
  it.skipIf(!canUnshareNet())(
    'a link-local IPv6 client (address with a zone) does not crash the proxy',
    async () => {
      const r = await scenario('unshare', [
        '-n',
        'bash',
        '-c',
        `ip link set lo up && ip addr add fe80::1/64 dev lo nodad && exec node --import tsx ${driver} link-local`,
      ]);
      expect(r.ready, JSON.stringify(r)).toBe(true);
      expect(r.aliveAfter, `the proxy died: ${String(r.stderr)}`).toBe(true);
      expect(r.after).toEqual({ echoed: 'after' });
      expect(r.exit).toEqual({ code: 0, signal: null });
    },
    45_000,
  );

  // Holds: past its open-file limit the proxy does not crash (libuv accepts and closes the
  // excess connections), and serves again once they are gone. Note: --max-connections is
  // not checked against the limit; every forwarded connection takes two descriptors.
  it('600 silent connections against a 256-descriptor limit: the proxy survives and serves again', async () => {
    const r = await scenario('node', ['--import', 'tsx', driver, 'fd-limit']);
    expect(r.ready, JSON.stringify(r)).toBe(true);
    expect(r.aliveUnderLoad).toBe(true);
    expect(r.aliveAfter).toBe(true);
    expect(r.after).toEqual({ echoed: 'after' });
    expect(r.exit).toEqual({ code: 0, signal: null });
  }, 45_000);
});
