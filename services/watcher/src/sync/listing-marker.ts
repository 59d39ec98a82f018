// Workaround for the identity store's reconcile contract (see docs/watcher.md, "Known
// gaps"): `reconcile(cluster, records)` keeps every claim newer than the newest LISTED
// pod, because it cannot know the listing's own resourceVersion. A pod that was the
// newest object and got deleted while the watcher was away would then survive the
// relist: a stale identity. Adding one record that owns no IPs, at the version the view
// is complete up to, raises that bound to the right value. The record is never visible
// to lookups (no IPs), and is kept by every reconcile (it is always listed).
import type { PodRecord } from '@podgate/identity';

export const LISTING_MARKER_UID = 'podgate-listing-version';

export function listingMarker(resourceVersion: string): PodRecord {
  return {
    uid: LISTING_MARKER_UID,
    name: LISTING_MARKER_UID,
    namespace: 'podgate-internal',
    annotations: {},
    errorCode: '',
    errorMessage: '',
    ips: [],
    resourceVersion,
  };
}
