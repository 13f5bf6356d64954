/**
 * Structural validation of the Istio objects the model reads, as the API server does with the
 * CRDs' structural schemas (`kubectl apply` with strict field validation): an unknown field, a
 * wrong type or an enum value outside the API is an error, not a silently ignored setting.
 *
 * Every field name of the real API (istio/api security/v1, networking/v1) is accepted; the
 * fields the model reads are checked deeply, the others only by name.
 */
import { z } from "zod";
import { isPort, isPortKey } from "./names";
import { fieldPath } from "./shape-problem";
import { AUTHORIZATION_ACTIONS, CLIENT_TLS_MODES, MTLS_MODES, type KubeObject } from "./types";
import { excerpt, SourceError, type SourceObject, type YamlPath } from "./yaml";

const strings = z.array(z.string());
const labels = z.record(z.string(), z.string());

const workloadSelector = z.strictObject({ matchLabels: labels.optional() });

/** PolicyTargetReference (Gateway API style attachment; ambient and gateways). */
const policyTargetReference = z.strictObject({
  group: z.string().optional(),
  kind: z.string(),
  name: z.string(),
  namespace: z.string().optional(),
});

const portNumber = z.number().int().refine(isPort, { message: "must be a port number between 1 and 65535" });

// ---- security.istio.io ----------------------------------------------------------------------

const mtls = z.strictObject({ mode: z.enum(MTLS_MODES).optional() });

export const peerAuthenticationSpec = z.strictObject({
  selector: workloadSelector.optional(),
  mtls: mtls.optional(),
  portLevelMtls: z
    .record(
      z.string().refine(isPortKey, { message: "must be a port number between 1 and 65535" }),
      mtls,
    )
    .optional(),
});

const jwtHeader = z.strictObject({ name: z.string(), prefix: z.string().optional() });
const claimToHeader = z.strictObject({ header: z.string(), claim: z.string() });

const jwtRule = z.strictObject({
  issuer: z.string().optional(),
  audiences: strings.optional(),
  jwksUri: z.string().optional(),
  jwks: z.string().optional(),
  fromHeaders: z.array(jwtHeader).optional(),
  fromParams: strings.optional(),
  fromCookies: strings.optional(),
  outputPayloadToHeader: z.string().optional(),
  forwardOriginalToken: z.boolean().optional(),
  outputClaimToHeaders: z.array(claimToHeader).optional(),
  timeout: z.string().optional(),
  spaceDelimitedClaims: strings.optional(),
});

export const requestAuthenticationSpec = z.strictObject({
  selector: workloadSelector.optional(),
  targetRef: policyTargetReference.optional(),
  targetRefs: z.array(policyTargetReference).optional(),
  jwtRules: z.array(jwtRule).optional(),
});

const source = z.strictObject({
  principals: strings.optional(),
  notPrincipals: strings.optional(),
  requestPrincipals: strings.optional(),
  notRequestPrincipals: strings.optional(),
  namespaces: strings.optional(),
  notNamespaces: strings.optional(),
  serviceAccounts: strings.optional(),
  notServiceAccounts: strings.optional(),
  ipBlocks: strings.optional(),
  notIpBlocks: strings.optional(),
  remoteIpBlocks: strings.optional(),
  notRemoteIpBlocks: strings.optional(),
});

const operation = z.strictObject({
  hosts: strings.optional(),
  notHosts: strings.optional(),
  ports: strings.optional(),
  notPorts: strings.optional(),
  methods: strings.optional(),
  notMethods: strings.optional(),
  paths: strings.optional(),
  notPaths: strings.optional(),
});

const condition = z.strictObject({
  key: z.string(),
  values: strings.optional(),
  notValues: strings.optional(),
});

const rule = z.strictObject({
  from: z.array(z.strictObject({ source: source.optional() })).optional(),
  to: z.array(z.strictObject({ operation: operation.optional() })).optional(),
  when: z.array(condition).optional(),
});

export const authorizationPolicySpec = z.strictObject({
  selector: workloadSelector.optional(),
  targetRef: policyTargetReference.optional(),
  targetRefs: z.array(policyTargetReference).optional(),
  rules: z.array(rule).optional(),
  action: z.enum(AUTHORIZATION_ACTIONS).optional(),
  provider: z.strictObject({ name: z.string() }).optional(),
});

// ---- networking.istio.io --------------------------------------------------------------------

const clientTls = z.strictObject({
  mode: z.enum(CLIENT_TLS_MODES).optional(),
  clientCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  credentialName: z.string().optional(),
  subjectAltNames: strings.optional(),
  sni: z.string().optional(),
  insecureSkipVerify: z.boolean().optional(),
  caCrl: z.string().optional(),
});

/** Settings the model does not read: checked by name only. */
const unread = z.unknown().optional();

const portTrafficPolicy = z.strictObject({
  port: z.strictObject({ number: portNumber }).optional(),
  loadBalancer: unread,
  connectionPool: unread,
  outlierDetection: unread,
  tls: clientTls.optional(),
});

const trafficPolicy = z.strictObject({
  loadBalancer: unread,
  connectionPool: unread,
  outlierDetection: unread,
  tls: clientTls.optional(),
  portLevelSettings: z.array(portTrafficPolicy).optional(),
  tunnel: unread,
  proxyProtocol: unread,
  retryBudget: unread,
});

const subset = z.strictObject({
  name: z.string(),
  labels: labels.optional(),
  trafficPolicy: trafficPolicy.optional(),
});

export const destinationRuleSpec = z.strictObject({
  host: z.string(),
  trafficPolicy: trafficPolicy.optional(),
  subsets: z.array(subset).optional(),
  exportTo: strings.optional(),
  workloadSelector: workloadSelector.optional(),
});

// ---- objects --------------------------------------------------------------------------------

/** The top level of a custom resource: what the API server keeps. */
function customResource(spec: z.ZodType) {
  return z.strictObject({
    apiVersion: z.string(),
    kind: z.string(),
    metadata: z.looseObject({}),
    spec: spec.optional(),
    status: z.unknown().optional(),
  });
}

/** Schemas by kind; only for the Istio kinds the model reads. */
export const ISTIO_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  PeerAuthentication: customResource(peerAuthenticationSpec),
  RequestAuthentication: customResource(requestAuthenticationSpec),
  AuthorizationPolicy: customResource(authorizationPolicySpec),
  DestinationRule: customResource(destinationRuleSpec),
};

const ISTIO_GROUPS = new Set(["security.istio.io", "networking.istio.io"]);

export interface SchemaIssue {
  /** Where in the object: ["spec", "mtls", "mod"]. */
  path: YamlPath;
  /** Whether the key is at fault (unknown field) or its value (wrong type, enum, range). */
  at: "key" | "value";
  /** States the problem, naming the field (`spec.mtls.mod`), the value found and what is allowed. */
  message: string;
}

/** Issues of one object; none for kinds without a schema here. */
export function validateObject(o: KubeObject): SchemaIssue[] {
  const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0]! : "";
  const schema = ISTIO_GROUPS.has(group) ? ISTIO_SCHEMAS[o.kind] : undefined;
  if (!schema) return [];
  const result = schema.safeParse(o);
  if (result.success) return [];
  const out: SchemaIssue[] = [];
  for (const issue of result.error.issues) out.push(...describeIssue(issue, o, schema));
  return out;
}

/** Validates every object and ties each issue to its place in the source. */
export function validateSourceObjects(objects: readonly SourceObject[]): SourceError[] {
  const errors: SourceError[] = [];
  for (const so of objects) {
    const o = so.object;
    const ref = o.metadata.namespace ? `${o.kind} ${o.metadata.namespace}/${o.metadata.name}` : `${o.kind} ${o.metadata.name}`;
    const located = validateObject(o).map((issue) => ({ at: so.locate(issue.path, issue.at), issue }));
    // Source order, as a reader goes through the file.
    located.sort((a, b) => a.at.line - b.at.line || a.at.col - b.at.col);
    for (const { at, issue } of located) errors.push(SourceError.at(at, `${ref}: ${issue.message}`));
  }
  return errors;
}

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue, o: KubeObject, schema: z.ZodType): SchemaIssue[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== "symbol");
  const found = valueAt(o, path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(schema, path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        at: "key" as const,
        message: `unknown field "${fieldPath([...path, key])}"` + (allowed.length ? ` (allowed ${path.length ? `in ${fieldPath(path)}` : "at the top level"}: ${allowed.join(", ")})` : ""),
      }));
    }
    case "invalid_value":
      return [{ path, at: "value", message: `${fieldPath(path)}: ${show(found)} is not one of ${issue.values.map(String).join(", ")}` }];
    case "invalid_type":
      return [
        {
          path,
          at: found === undefined ? "key" : "value",
          message:
            found === undefined
              ? `${fieldPath(path)}: required field is missing`
              : `${fieldPath(path)}: must be ${article(issue.expected)}, found ${show(found)}`,
        },
      ];
    case "invalid_key": {
      const inner = issue.issues[0]?.message ?? issue.message;
      return [{ path, at: "key", message: `${fieldPath(path.slice(0, -1))}: key ${show(path[path.length - 1])} ${inner}` }];
    }
    default:
      return [{ path, at: "value", message: `${fieldPath(path)}: ${issue.message}, found ${show(found)}` }];
  }
}

/** The field names a strict object at `path` accepts (empty when the path does not lead to one). */
function allowedKeys(schema: z.ZodType, path: YamlPath): string[] {
  let s: unknown = schema;
  for (const seg of path) {
    s = unwrap(s);
    const def = (s as { _zod?: { def?: { type?: string } } })._zod?.def;
    if (!def) return [];
    if (def.type === "object") s = (s as z.ZodObject).shape[String(seg)];
    else if (def.type === "array") s = (s as z.ZodArray<z.ZodType>).element;
    else if (def.type === "record") s = (def as unknown as { valueType: unknown }).valueType;
    else return [];
    if (s === undefined) return [];
  }
  s = unwrap(s);
  return (s as { _zod?: { def?: { type?: string } } })._zod?.def?.type === "object" ? Object.keys((s as z.ZodObject).shape) : [];
}

function unwrap(s: unknown): unknown {
  while ((s as { _zod?: { def?: { type?: string } } })?._zod?.def?.type === "optional") s = (s as z.ZodOptional<z.ZodType>).unwrap();
  return s;
}

function valueAt(o: unknown, path: YamlPath): unknown {
  let v: unknown = o;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return excerpt(JSON.stringify(v));
  return `${typeof v} ${excerpt(String(v))}`;
}

function article(expected: string): string {
  if (expected === "object") return "a mapping";
  if (expected === "array") return "a list";
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
