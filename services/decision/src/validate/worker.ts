// The validation worker's thread (pool.ts starts it): loads the policy engine, says it is
// ready, then answers one text at a time. Nothing here outlives a message but the modules.
import { parentPort } from 'node:worker_threads';
import { errorMessage } from '@podgate/errors';
import { validatePolicyText } from './outcome.js';
import type { FromWorker, ToWorker } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('the validation worker runs in a worker thread only');

port.on('message', (job: ToWorker) => {
  let reply: FromWorker;
  try {
    reply = { id: job.id, outcome: validatePolicyText(job.text) };
  } catch (error) {
    // The loader reports a bad file as diagnostics; a throw is a defect, told as such.
    reply = { id: job.id, error: errorMessage(error) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies FromWorker);
