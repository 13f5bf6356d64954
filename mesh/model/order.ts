/**
 * "Oldest wins" ordering (istio/istio pilot/pkg/model sortConfigByCreationTime: creation time, then
 * name, then namespace). Objects without a creationTimestamp are the ones a builder is about to
 * create, so they count as newer than every object already in the cluster, and among themselves
 * earlier in the input = older.
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
  if (a.created !== undefined && b.created !== undefined) {
    if (a.created !== b.created) return a.created - b.created;
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
    return a.position - b.position;
  }
  if (a.created !== undefined) return -1;
  if (b.created !== undefined) return 1;
  return a.position - b.position;
}

/** Sorted copy, oldest first. */
export function oldestFirst<T extends Aged>(items: readonly T[]): T[] {
  return [...items].sort(compareAge);
}
