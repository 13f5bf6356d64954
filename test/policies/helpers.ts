/**
 * Fake CrossGuard arguments for calling policies' validate functions directly, and a small demo
 * mesh (foo and bar with sidecars, legacy without; httpbin and sleep in each) as Pulumi resources.
 */
import type { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { KubeObject } from "../../mesh/types";
import type { StackResource } from "../../policies/stack-objects";
import { asPolicyResource, NotApplicable, notApplicable } from "../../policies/run";

export interface Outcome {
  messages: string[];
  urns: (string | undefined)[];
  notApplicable?: string;
}

/** `kubernetes:apps/v1:Deployment`, `kubernetes:core/v1:Service`, `kubernetes:security.istio.io/v1:PeerAuthentication`. */
export function typeToken(o: KubeObject): string {
  const group = o.apiVersion.includes("/") ? o.apiVersion : `core/${o.apiVersion}`;
  return `kubernetes:${group}:${o.kind}`;
}

export function asResources(objects: readonly KubeObject[]): StackResource[] {
  return objects.map((o) => {
    const name = `${o.metadata.namespace ?? "cluster"}-${o.metadata.name}-${o.kind.toLowerCase()}`;
    return { type: typeToken(o), props: JSON.parse(JSON.stringify(o)), name, urn: `urn:pulumi:test::istio-mtls::${typeToken(o)}::${name}` };
  });
}

export async function validateStack(policy: StackValidationPolicy, objects: readonly KubeObject[], config: object = {}): Promise<Outcome> {
  const out: Outcome = { messages: [], urns: [] };
  try {
    await policy.validateStack(
      { resources: asResources(objects).map(asPolicyResource), stackTags: new Map(), getConfig: <T,>() => config as T, notApplicable },
      (message, urn) => {
        out.messages.push(message);
        out.urns.push(urn);
      },
    );
  } catch (e) {
    if (!(e instanceof NotApplicable)) throw e;
    out.notApplicable = e.message;
  }
  return out;
}

export async function validateResource(policy: ResourceValidationPolicy, object: KubeObject, config: object = {}): Promise<Outcome> {
  const out: Outcome = { messages: [], urns: [] };
  const r = asResources([object])[0];
  const validate = policy.validateResource ?? [];
  for (const v of Array.isArray(validate) ? validate : [validate]) {
    await v(
      {
        type: r.type,
        props: r.props as Record<string, any>,
        urn: r.urn,
        name: r.name,
        opts: asPolicyResource(r).opts,
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T,>() => config as T,
        notApplicable,
      },
      (message, urn) => {
        out.messages.push(message);
        out.urns.push(urn);
      },
    );
  }
  return out;
}

export function policyNamed<T extends Policies[number]>(policies: Policies, name: string): T {
  const p = policies.find((x) => x.name === name);
  if (!p) throw new Error(`no policy ${name}`);
  return p as T;
}

// ---- the demo mesh --------------------------------------------------------------------------

export function namespace(name: string, injection: boolean): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: injection ? { "istio-injection": "enabled" } : {} } };
}

export function deployment(ns: string, app: string, port?: number): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: app, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: { serviceAccountName: app, containers: [{ name: app, image: "example/app:1", ...(port ? { ports: [{ containerPort: port }] } : {}) }] },
      },
    },
  };
}

export function service(ns: string, app: string, port: number, targetPort: number): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: app, namespace: ns },
    spec: { selector: { app }, ports: [{ name: "http", port, targetPort }] },
  };
}

export function demoMesh(namespaces: { name: string; injection: boolean }[] = DEMO_NAMESPACES): KubeObject[] {
  return namespaces.flatMap(({ name, injection }) => [
    namespace(name, injection),
    deployment(name, "httpbin", 8080),
    service(name, "httpbin", 8000, 8080),
    deployment(name, "sleep"),
  ]);
}

export const DEMO_NAMESPACES = [
  { name: "foo", injection: true },
  { name: "bar", injection: true },
  { name: "legacy", injection: false },
];

export function peerAuthentication(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  annotations?: Record<string, string>,
): KubeObject {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
    spec,
  };
}

export function destinationRule(namespace: string, name: string, host: string, mode: string): KubeObject {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name, namespace },
    spec: { host, trafficPolicy: { tls: { mode } } },
  };
}

export function authorizationPolicy(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace }, spec };
}

export function requestAuthentication(namespace: string, name: string, selector: Record<string, string>, jwksUri: string): KubeObject {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "RequestAuthentication",
    metadata: { name, namespace },
    spec: { selector: { matchLabels: selector }, jwtRules: [{ issuer: "https://issuer.example", jwksUri }] },
  };
}

export function intentConfigMap(production: boolean, intent?: string, namespace = "istio-system"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "istio-mtls-intent", namespace },
    data: { production: String(production), ...(intent !== undefined ? { intent } : {}) },
  };
}
