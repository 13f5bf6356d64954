/**
 * "Oldest wins" ordering (istio/istio pilot/pkg/model/config.go configCompareByCreationTime:
 * creation time, then name, then namespace). Objects without a creationTimestamp are the ones a
 * deploy is about to create: newer than every object already in the cluster, and among themselves
 * created in the same second (one `kubectl apply` or `pulumi up`; the API server stores seconds),
 * so name and namespace decide, as in Istio, not the order of the input.
 */
export interface Aged {
  name: string;
  namespace: string;
  /** Milliseconds since epoch, or undefined when the object has no creationTimestamp. */
  created: number | undefined;
  /** Position in the input. */
  position: number;
}

export function compareAge(a: Aged, b: Aged): number {
  if (a.created !== b.created) {
    if (a.created === undefined) return 1;
    if (b.created === undefined) return -1;
    return a.created - b.created;
  }
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  // The same object twice: the input's last one replaces it before this is asked (last wins).
  return a.position - b.position;
}

/** Sorted copy, oldest first. */
export function oldestFirst<T extends Aged>(items: readonly T[]): T[] {
  return [...items].sort(compareAge);
}
