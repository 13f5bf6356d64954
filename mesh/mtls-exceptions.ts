/**
 * Which reviewed exceptions to STRICT cover each Service port: the exception annotations
 * (EXCEPTION_REASON_ANNOTATION, EXCEPTION_EXPIRES_ANNOTATION) on the object that decides what its
 * endpoints accept. With a sidecar that is the PeerAuthentication whose mode applies at the
 * endpoint's container port (mesh, namespace, workload or port level, as the model composes them);
 * without one nothing is enforced, so it is the Namespace's exception for sidecar-less workloads.
 * Read from objects, so the stack's plan and a live read of the cluster give the same answer.
 */
import { EXCEPTION_EXPIRES_ANNOTATION, EXCEPTION_REASON_ANNOTATION } from "./builders/peer-authentication";
import { buildModel, type BuildOptions } from "./model/index";
import { objectRef } from "./model/errors";
import type { PeerAuthnPolicy } from "./model/peer-authentication";
import type { Endpoint } from "./model/workloads";
import type { KubeObject } from "./types";

/** A reviewed exception that covers a Service port. */
export interface ServiceException {
  namespace: string;
  service: string;
  /** The Service port. */
  port: number;
  /** The annotated object: `PeerAuthentication bar/httpbin`, `Namespace legacy`. */
  object: string;
  reason: string;
  /** YYYY-MM-DD as written; the last day it is allowed. */
  expires: string;
}

function annotationsByRef(objects: readonly KubeObject[]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const o of objects) {
    if ((o.kind === "PeerAuthentication" || o.kind === "Namespace") && o.metadata?.annotations) {
      out.set(objectRef(o.kind, o.kind === "Namespace" ? undefined : o.metadata.namespace, o.metadata.name), o.metadata.annotations as Record<string, unknown>);
    }
  }
  return out;
}

/** `source` names the policy (`PeerAuthentication foo/default`, `portLevelMtls 8080 of PeerAuthentication bar/httpbin`). */
function names(source: string, ref: string): boolean {
  const at = source.indexOf(ref);
  return at >= 0 && !/[A-Za-z0-9.-]/.test(source.charAt(at + ref.length));
}

/** The object deciding what `e` accepts: its Namespace without a sidecar, else the PeerAuthentication the model's decision names. */
function decidingObject(e: Endpoint, model: ReturnType<typeof buildModel>): string | undefined {
  const w = e.workload;
  if (!w.sidecar) return objectRef("Namespace", undefined, w.namespace);
  const { source } = model.peerAuthn.modeAt(w, e.targetPort);
  const candidates: (PeerAuthnPolicy | undefined)[] = [model.peerAuthn.workloadPolicy(w), model.peerAuthn.namespaceLevel.get(w.namespace), model.peerAuthn.mesh];
  return candidates.find((p) => p !== undefined && names(source, p.ref))?.ref;
}

/** Every (Service port, exception) pair, Service ports in the model's order, each object once per port. */
export function serviceExceptions(objects: readonly KubeObject[], options: BuildOptions = {}): ServiceException[] {
  return modelExceptions(buildModel(objects, options), objects);
}

/** serviceExceptions() with the model of `objects` already built. */
export function modelExceptions(model: ReturnType<typeof buildModel>, objects: readonly KubeObject[]): ServiceException[] {
  const annotations = annotationsByRef(objects);
  const out: ServiceException[] = [];
  for (const sp of model.servicePorts) {
    const seen = new Set<string>();
    for (const e of sp.endpoints) {
      const object = decidingObject(e, model);
      if (object === undefined || seen.has(object)) continue;
      seen.add(object);
      const a = annotations.get(object);
      const reason = a?.[EXCEPTION_REASON_ANNOTATION];
      const expires = a?.[EXCEPTION_EXPIRES_ANNOTATION];
      if (typeof reason === "string" && typeof expires === "string") out.push({ namespace: sp.namespace, service: sp.service, port: sp.port, object, reason, expires });
    }
  }
  return out;
}
