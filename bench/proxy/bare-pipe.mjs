// The baseline: the naive Node.js TCP proxy (no lookup, no policy, no logs). Plain JavaScript
// run by node itself, so no loader sits in its path. Usage: node bare-pipe.mjs LISTEN_PORT UPSTREAM_PORT
import net from 'node:net';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
const server = net.createServer((client) => {
  const upstream = net.connect(upstreamPort, '127.0.0.1');
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(listenPort, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
