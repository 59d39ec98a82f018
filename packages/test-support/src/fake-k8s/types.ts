// The fake Kubernetes API's public shapes: what tests create and drive.
import type { ServerResponse } from 'node:http';

export interface FakePod {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface FakeK8sApiOptions {
  token?: string;
  /** Watch events kept for resuming watches; older versions get 410. Default 10,000. */
  historyLimit?: number;
  /** Send a BOOKMARK this often on watches that ask for them; 0 = never (default). */
  bookmarkIntervalMs?: number;
}

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string };
  spec: Record<string, unknown>;
}

export type Selector = (labels: Record<string, string> | undefined) => boolean;

export interface FakeK8sApi {
  url: string;
  port: number;
  token: string;
  /** The current resourceVersion (the last one handed out). */
  readonly resourceVersion: number;
  readonly counts: { list: number; watch: number; lease: number; unauthorized: number };
  /** The `resourceVersion` each watch request asked to start from, in arrival order (null: none). */
  readonly watchedFrom: readonly (string | null)[];
  readonly activeWatches: number;
  addPod(pod: FakePod): FakePod;
  /** Replaces a pod's fields (deep-merged by `change`); bumps its resourceVersion. */
  updatePod(namespace: string, name: string, change: (pod: FakePod) => void): FakePod;
  deletePod(namespace: string, name: string): FakePod;
  /** Adds many pods with no watch events (as if they existed before anyone watched). */
  seedPods(pods: Iterable<FakePod>): void;
  getPod(namespace: string, name: string): FakePod | undefined;
  /** Destroys every watch socket (a dropped connection). */
  dropWatches(): void;
  /** Open watches stay open but receive nothing more (a hung connection). */
  silence(): void;
  /** Forgets the watch history: resuming from any earlier version gets 410. */
  compactHistory(): void;
  /** Down: every request gets 503 and open watches are dropped. */
  setDown(down: boolean): void;
  /**
   * Failing: every request is answered with `status` (a Kubernetes Status body) and open
   * watches are dropped; null answers normally again. setDown is this with 503.
   */
  failWith(status: number | null): void;
  /** Hung: requests are accepted and never answered (until unhung, then dropped). */
  setHung(hung: boolean): void;
  /** Sends a BOOKMARK with the current version to every watch that asked for them. */
  sendBookmarks(): void;
  /** List requests wait (unanswered) until the returned function is called. */
  holdLists(): () => void;
  /** Hostile: writes `text` as is (no newline added) to every open, unsilenced watch. */
  sendRaw(text: string): void;
  /**
   * Hostile: list requests are answered by `respond` instead (null restores normal lists).
   * It gets the raw response: send anything, or nothing at all.
   */
  hostileLists(respond: ((res: ServerResponse) => void) | null): void;
  getLease(namespace: string, name: string): Lease | undefined;
  writeKubeconfig(path: string): string;
  close(): Promise<void>;
}
