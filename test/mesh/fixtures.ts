/** Reading the scenario fixtures and turning a prediction into the seed documents' 3×3 matrix. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { Cell, Prediction } from "../../mesh/prediction";
import type { KubeObject } from "../../mesh/types";

export const SCENARIOS_DIR = join(__dirname, "..", "fixtures", "scenarios");

export function readYaml(path: string): KubeObject[] {
  return parseAllDocuments(readFileSync(path, "utf8"))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === "object");
}

/** foo, bar (sidecars) and legacy (none), each with httpbin (Service port 8000 → 8080) and sleep. */
export function demo(): KubeObject[] {
  return readYaml(join(SCENARIOS_DIR, "demo.yaml"));
}

/** "200 mtls", "200", "000", "503", as the expected.yaml files write cells. */
export function cell(p: Pick<Cell, "code" | "mtls">): string {
  const code = p.code === 0 ? "000" : String(p.code);
  return p.mtls ? `${code} mtls` : code;
}

export const COLUMNS = ["httpbin.foo:8000", "httpbin.bar:8000", "httpbin.legacy:8000"];
export const ROWS = ["sleep.foo", "sleep.bar", "sleep.legacy"];

export function matrix(p: Prediction, rows = ROWS, columns = COLUMNS): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of rows) out[r] = columns.map((c) => cell(find(p, r, c)));
  return out;
}

export function find(p: Prediction, from: string, to: string): Cell {
  const hit = p.probes.find((x) => x.from === from && x.to === to);
  if (!hit) throw new Error(`no probe ${from} → ${to} in the prediction`);
  return hit;
}

/** Builds a PeerAuthentication object. */
export function peerAuthentication(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  creationTimestamp?: string,
): KubeObject {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name, namespace, ...(creationTimestamp ? { creationTimestamp } : {}) },
    spec,
  };
}

export function destinationRule(namespace: string, name: string, spec: Record<string, unknown>, creationTimestamp?: string): KubeObject {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name, namespace, ...(creationTimestamp ? { creationTimestamp } : {}) },
    spec,
  };
}

export function authorizationPolicy(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace }, spec };
}

export function requestAuthentication(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name, namespace }, spec };
}

export const HTTPBIN = { matchLabels: { app: "httpbin" } };
