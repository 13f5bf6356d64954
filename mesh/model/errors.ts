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

/**
 * Several objects (or several fields of one) the model cannot read, reported together as
 * `kubectl apply` lists every invalid object. A ModelInputError itself (of the first), so that
 * callers catching one still catch all.
 */
export class ModelInputErrors extends ModelInputError {
  constructor(public readonly errors: readonly ModelInputError[]) {
    super(errors[0]!.object, errors[0]!.message.slice(errors[0]!.object.length + 2));
    this.message = errors.map((e) => e.message).join("\n");
    this.name = "ModelInputErrors";
  }
}

/** Throws the one error as itself, several as ModelInputErrors; nothing when there is none. */
export function throwAll(errors: readonly ModelInputError[]): void {
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new ModelInputErrors(errors);
}

/** Runs `read`, keeping its ModelInputError (or each of its ModelInputErrors) in `errors`. */
export function collecting<T>(errors: ModelInputError[], read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof ModelInputErrors) errors.push(...e.errors);
    else if (e instanceof ModelInputError) errors.push(e);
    else throw e;
    return undefined;
  }
}
