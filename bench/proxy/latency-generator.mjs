// The fixed-rate connection generator, as its own small process so it can be pinned to the load
// core (taskset) and no benchmark bookkeeping or loader shares its event loop: a late timer or a
// garbage collection here would read as latency of the proxy measured.
// Usage: node latency-generator.mjs PORT RATE SECONDS
// A new connection every 1000/RATE ms: connect, one request, read to the close. Prints one JSON
// line: each answered connection's time from connect() to the last byte (ms), and how many were
// closed without an answer.
import net from 'node:net';

const [port, rate, seconds] = process.argv.slice(2).map(Number);
const REQUEST = 'GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n';
const total = rate * seconds;
const samples = new Float64Array(total);
let answered = 0;
let failures = 0;
let done = 0;
let launched = 0;
const started = performance.now();

function one() {
  const t0 = performance.now();
  const s = net.connect({ port, host: '127.0.0.1' });
  s.setNoDelay(true);
  let got = 0;
  s.on('connect', () => s.write(REQUEST));
  s.on('data', (d) => {
    got += d.length;
  });
  s.on('error', () => {});
  s.on('close', () => {
    if (got > 0) samples[answered++] = performance.now() - t0;
    else failures++;
    if (++done === total) {
      process.stdout.write(
        `${JSON.stringify({ samples: Array.from(samples.subarray(0, answered)), failures })}\n`,
      );
    }
  });
}

// Launch on schedule (catching up if a timer is late), not one timer per connection.
function tick() {
  const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
  while (launched < due) {
    launched++;
    one();
  }
  if (launched < total) setTimeout(tick, 1);
}
tick();
