/** A known object that Istio's validation would reject, or that the model cannot read. */
export class ModelInputError extends Error {
  constructor(
    /** `Kind namespace/name` of the offending object. */
    public readonly object: string,
    message: string,
  ) {
    super(`${object}: ${message}`);
    this.name = "ModelInputError";
  }
}

/** `Kind namespace/name` (or `Kind name` when cluster-scoped) for messages. */
export function objectRef(kind: string, namespace: string | undefined, name: string): string {
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}
