import { MemoryIdentityStore } from './memory-store.js';
import { describeStoreContract } from './store.contract.js';

describeStoreContract('memory', () => {
  let now = 1_000_000;
  const stores = new Map<string, MemoryIdentityStore>();
  return {
    open: async (prefix) => {
      let store = stores.get(prefix);
      if (store === undefined) {
        store = new MemoryIdentityStore({ now: () => now });
        stores.set(prefix, store);
      }
      return store;
    },
    sync: async () => {},
    elapse: async (ms) => {
      now += ms;
    },
    loseData: async (prefix) => {
      stores.get(prefix)?.loseData();
    },
  };
});
