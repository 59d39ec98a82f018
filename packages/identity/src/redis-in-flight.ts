// Writes whose connection closed under them fail when it closes, not seconds later.
//
// The store turns ioredis' autoResendUnfulfilledCommands off, so that a write whose reply was
// lost is never sent again at an unknown time after a reconnect (the watcher converges by a full
// reconcile instead). With it off, ioredis neither re-sends nor fails such a command: on the
// reconnect it drops it from its queue, and its promise settles only when commandTimeout fires
// (5 s, measured: a write sent to a hung Redis that was then killed and restarted failed after
// 5,005 ms, with the connection back after about 100). A watcher's write, and whatever waited
// behind it, sat out those seconds after a Redis crash. The outcome of such a write is unknown
// either way; it is failed as soon as the connection that carried it closes.
import type { EventEmitter } from 'node:events';
import { IdentityError } from './errors.js';

export class InFlightWrites {
  private readonly pending = new Set<(error: Error) => void>();

  /** `connection` emits 'close' when the connection under its commands closes (ioredis' Redis). */
  constructor(connection: EventEmitter) {
    connection.on('close', () => {
      if (this.pending.size === 0) return;
      // A reply read just before the close has resolved its command already, but the promise
      // reactions that tell this class run after the 'close' event (emitted on the next tick):
      // the writes still pending after them are the ones the closed connection took along.
      setImmediate(() => {
        const error = new IdentityError(
          'store_unavailable',
          'the connection to Redis closed before the write was answered (it may or may not have been applied)',
        );
        for (const fail of [...this.pending]) fail(error);
      });
    });
  }

  /** `command`'s outcome, or a failure when its connection closes first. */
  guard<T>(command: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        this.pending.delete(fail);
        reject(error);
      };
      this.pending.add(fail);
      command.then(
        (value) => {
          if (settled) return;
          settled = true;
          this.pending.delete(fail);
          resolve(value);
        },
        (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }
}
