// The soak's positive control, loaded into the proxy only when SOAK_INJECT_LEAK=1: every
// connection any server of the process accepts leaves behind one object shaped like the
// connection's record (client, endpoint, identity, decision: about 0.9 KiB of heap, measured
// as described in docs/RELIABILITY.md), as a proxy that forgot to drop its records would. The
// soak must then fail on its heap slope.
import net from 'node:net';

const leaked = [];
globalThis.__podgateLeakInjection = leaked;
const emit = net.Server.prototype.emit;
net.Server.prototype.emit = function (event, ...args) {
  if (event === 'connection') {
    const socket = args[0];
    leaked.push({
      endpoint: 'tcp://ledger.payments:5432',
      client: { ip: socket.remoteAddress, port: socket.remotePort, from: 'socket' },
      at: Date.now(),
      decision: {
        allowed: false,
        action: 'deny',
        rule: { number: 2 },
        identity: {
          id: `${socket.remotePort}-0000-0000-0000-000000000000`,
          metadata: {
            name: `pod-${socket.remotePort}`,
            namespace: 'other',
            annotations: {},
            error_code: '',
            error_message: '',
          },
          cluster: 'rel',
        },
        lookup: { found: true },
      },
    });
  }
  return emit.call(this, event, ...args);
};
