// The model-based store test on the memory store (store.model.suite.ts): as it is (its
// writers' promises interleave as the event loop runs them), and with each write step held
// until the command's schedule releases it, so concurrent writers interleave step by step.
import { MemoryIdentityStore } from './memory-store.js';
import type { PodRecord } from './model.js';
import type { ModelBackend } from './store.model.harness.js';
import { CommandGate, type Interleaver, plainInterleaver } from './store.model.interleave.js';
import { describeStoreModel } from './store.model.suite.js';

const gate = new CommandGate();

/** Each epoch write (a reconcile: each of its claims) waits for its turn first. */
class SteppedMemoryStore extends MemoryIdentityStore {
  override async claimAt(cluster: string, record: PodRecord, epoch: number): Promise<void> {
    await gate.hold(`claim ${cluster}/${record.uid}`);
    return super.claimAt(cluster, record, epoch);
  }
  override async releaseAt(cluster: string, uid: string, rv: string, epoch: number): Promise<void> {
    await gate.hold(`release ${cluster}/${uid}`);
    return super.releaseAt(cluster, uid, rv, epoch);
  }
  override async heartbeatAt(cluster: string, ttlMs: number, epoch: number): Promise<void> {
    await gate.hold(`heartbeat ${cluster}`);
    return super.heartbeatAt(cluster, ttlMs, epoch);
  }
  override async raiseEpoch(cluster: string, epoch: number): Promise<number> {
    await gate.hold(`fence ${cluster}`);
    return super.raiseEpoch(cluster, epoch);
  }
}

function backend(Store: typeof MemoryIdentityStore, interleaver: Interleaver): () => ModelBackend {
  return () => {
    // One store per run, shared by the run's three "processes"; its own clock.
    let now = 1_000_000;
    let store: MemoryIdentityStore | undefined;
    return {
      open: async () => {
        store ??= new Store({ now: () => now });
        return store;
      },
      sync: async () => {},
      elapse: async (ms) => {
        now += ms;
      },
      interleaver,
    };
  };
}

describeStoreModel('memory', backend(MemoryIdentityStore, plainInterleaver), {
  runs: 300,
  msPerRun: 100,
});
describeStoreModel('memory, stepped writes', backend(SteppedMemoryStore, gate), {
  runs: 300,
  msPerRun: 100,
});
