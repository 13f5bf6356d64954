/**
 * What the probe can check on a Service port of the live read (mesh/prediction.ts TargetCheck).
 * Its script sends one HTTP/1.1 request with curl, so a port that declares HTTP gets the HTTP
 * check of an application the model does not know ("http": Envoy's answers by status and
 * body, the application's answer whatever its status, mTLS and peer identity where the answer
 * echoes the request's headers); a TCP port gets the connection-level outcome only (accepted, or
 * refused/reset: observe.ts connectionProblem), and curl cannot probe UDP or SCTP at all.
 *
 * Declared as Istio selects a protocol explicitly (protocol-selection docs): `appProtocol`, else
 * the port name `<protocol>[-<suffix>]`, case-insensitive. Only `http` is HTTP/1.1: `http2` and
 * `grpc` need another client, and an undeclared port may hold any protocol (Istio sniffs it; the
 * probe cannot know what the application speaks).
 */
import type { TargetCheck } from "../mesh/prediction";
import type { KubeObject } from "../mesh/types";

export type PortCheck = TargetCheck | "none";

export interface ServicePortSpec {
  name?: unknown;
  appProtocol?: unknown;
  protocol?: unknown;
  port?: unknown;
}

export function portCheck(p: ServicePortSpec): PortCheck {
  const transport = typeof p.protocol === "string" ? p.protocol.toUpperCase() : "TCP";
  if (transport !== "TCP") return "none";
  const declared = typeof p.appProtocol === "string" && p.appProtocol !== "" ? p.appProtocol : typeof p.name === "string" ? p.name.split("-")[0]! : "";
  return declared.toLowerCase() === "http" ? "http" : "connection";
}

/** The check of each Service port of `objects`, keyed `<service>.<namespace>:<port>` as Cell.to. */
export function portChecks(objects: readonly KubeObject[]): Map<string, PortCheck> {
  const out = new Map<string, PortCheck>();
  for (const o of objects) {
    if (o.kind !== "Service" || o.apiVersion !== "v1") continue;
    const ports = (o as { spec?: { ports?: unknown } }).spec?.ports;
    if (!Array.isArray(ports)) continue;
    for (const p of ports as ServicePortSpec[]) {
      out.set(`${o.metadata.name}.${o.metadata.namespace || "default"}:${String(p?.port)}`, portCheck(p ?? {}));
    }
  }
  return out;
}
