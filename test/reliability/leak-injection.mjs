// The soak's positive control, loaded into the proxy only when SOAK_INJECT_LEAK=1: every
// connection any server of the process accepts leaves one small object behind (its peer's
// address and port, and the time), about what a forgotten entry in a Map or Set costs. The
// soak must then fail on its heap slope; docs/RELIABILITY.md gives the figures of such a run.
import net from 'node:net';

const leaked = [];
globalThis.__podgateLeakInjection = leaked;
const emit = net.Server.prototype.emit;
net.Server.prototype.emit = function (event, ...args) {
  if (event === 'connection') {
    const socket = args[0];
    leaked.push({ ip: socket.remoteAddress, port: socket.remotePort, at: Date.now() });
  }
  return emit.call(this, event, ...args);
};
