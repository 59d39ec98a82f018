// The Redis store's key names. Every key of a cluster carries the cluster's name as its hash
// tag, so all of them live in one slot of a Redis Cluster and one script can write them
// together (docs/adr/0002-redis-key-layout.md).
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Hash: uid -> pod entry (claim.ts encodeEntry / encodeTombstone); `~epoch` -> writer epoch. */
  pods(cluster: string): string {
    return `${this.prefix}pods:{${cluster}}`;
  }

  /** Hash: canonical IP -> JSON array of the uids whose entries list it. */
  claims(cluster: string): string {
    return `${this.prefix}claims:{${cluster}}`;
  }

  /** String with a TTL: the cluster's watcher is alive while it exists. */
  heartbeat(cluster: string): string {
    return `${this.prefix}hb:{${cluster}}`;
  }
}
