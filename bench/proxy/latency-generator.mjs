// The fixed-rate connection generator, as its own small process so it can be pinned to the load
// core (taskset) and no benchmark bookkeeping or loader shares its event loop: a late timer or a
// garbage collection here would read as latency of the proxy measured.
// Usage: node latency-generator.mjs RATE SECONDS PORT [PORT ...]
// RATE new connections per second to each port, interleaved (the ports' schedules are offset
// evenly), so that every port's connections meet the same moments of the machine: on a shared
// machine a stall lands on all of them, not on whichever ran in that second. Each connection:
// connect, one request, read to the close. Prints one JSON line: per port, each answered
// connection's time from connect() to the last byte (ms), and how many closed unanswered.
import net from 'node:net';

const [rate, seconds, ...ports] = process.argv.slice(2).map(Number);
const REQUEST = 'GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n';
const perPort = rate * seconds;
const total = perPort * ports.length;
const samples = ports.map(() => new Float64Array(perPort));
const answered = ports.map(() => 0);
const failures = ports.map(() => 0);
let done = 0;
let launched = 0;
const started = performance.now();

function one(k) {
  const t0 = performance.now();
  const s = net.connect({ port: ports[k], host: '127.0.0.1' });
  s.setNoDelay(true);
  let got = 0;
  s.on('connect', () => s.write(REQUEST));
  s.on('data', (d) => {
    got += d.length;
  });
  s.on('error', () => {});
  s.on('close', () => {
    if (got > 0) samples[k][answered[k]++] = performance.now() - t0;
    else failures[k]++;
    if (++done === total) {
      const out = ports.map((_, i) => Array.from(samples[i].subarray(0, answered[i])));
      process.stdout.write(`${JSON.stringify({ samples: out, failures })}\n`);
    }
  });
}

// Launch on schedule (catching up if a timer is late), not one timer per connection; the n-th
// launch goes to port n mod ports.length.
function tick() {
  const due = Math.min(total, Math.floor(((performance.now() - started) * rate * ports.length) / 1000) + 1);
  while (launched < due) one(launched++ % ports.length);
  if (launched < total) setTimeout(tick, 1);
}
tick();
