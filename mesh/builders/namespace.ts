/**
 * Namespaces with the label Istio's injection webhook selects on. A revision uses `istio.io/rev`
 * alone: with both labels present, `istio-injection` wins and the revision is ignored.
 */
import { objectRef } from "../model/errors";
import type { MtlsException } from "../settings";
import type { Namespace } from "./kinds";
import { checkDnsLabel, labels } from "./meta";
import { exceptionAnnotations } from "./peer-authentication";

export interface NamespaceInput {
  name: string;
  /** true: sidecars injected; false: `istio-injection: disabled`; undefined: no injection label. */
  injection?: boolean;
  /** Istio revision to inject from (only with injection true); omitted: the default revision. */
  revision?: string;
  /**
   * Why the namespace's workloads may go without sidecars (plaintext) and until when: the policy
   * pack requires it in production for a namespace without injection.
   */
  exception?: MtlsException;
}

export function buildNamespace(input: NamespaceInput): Namespace {
  checkDnsLabel("namespace name", input.name);
  const l: Record<string, string> = {};
  if (input.injection === true) {
    if (input.revision) l["istio.io/rev"] = input.revision;
    else l["istio-injection"] = "enabled";
  } else if (input.injection === false) {
    l["istio-injection"] = "disabled";
  }
  const metadata: Namespace["metadata"] = { name: input.name };
  if (Object.keys(l).length > 0) metadata.labels = labels(l);
  if (input.exception !== undefined) metadata.annotations = exceptionAnnotations(objectRef("Namespace", undefined, input.name), input.exception);
  return { apiVersion: "v1", kind: "Namespace", metadata };
}
