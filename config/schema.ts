/**
 * The zod schemas of the user-facing stack config keys (`istio-mtls:<key>`): shapes, syntax of
 * each value, defaults. Objects are strict: an unknown field is an error, not silently ignored.
 * Values that `pulumi config set` stores as strings ("true", "5") are accepted where a boolean or
 * a number is expected. Relations between fields and keys are checked in `rules.ts`.
 */
import { z } from "zod";
import { DEFAULT_GATEWAY_SERVICE_TYPE, GATEWAY_SERVICE_TYPES, PROBE_DEFAULTS, PROBE_MAXIMA } from "../mesh/settings";
import { INTENT_EXPECTATIONS, parseIntentFrom, parseIntentTo } from "../mesh/builders/intent";
import { KEY_SIZES } from "../mesh/builders/mesh-ca";
import { parseDay } from "../mesh/day";
import { isPortKey } from "../mesh/names";
import { CLIENT_TLS_MODES, DEFAULT_MESH_CONFIG, ISTIOD_NAMESPACE, MTLS_MODES } from "../mesh/types";
import { allowedBy } from "./errors";
import {
  DNS_LABEL_ALLOWED,
  DNS_NAME_ALLOWED,
  DURATION_ALLOWED,
  HOST_ALLOWED,
  LABEL_KEY_ALLOWED,
  LABEL_VALUE_ALLOWED,
  PORT_ALLOWED,
  PRINCIPAL_ALLOWED,
  isDnsLabel,
  isDnsName,
  isHttpsUrl,
  isLabelKey,
  isLabelValue,
  isFolderPath,
  isOciUrl,
  isServiceHost,
  parseGoDuration,
  isPrincipal,
  parseIstioVersion,
  parseSemver,
} from "./values";

/** Oldest Istio whose security.istio.io/v1 and networking.istio.io/v1 APIs the builders emit. */
export const MIN_ISTIO_VERSION: readonly [number, number] = [1, 22];
export const DEFAULT_ISTIO_VERSION = "1.28.1";
export const DEFAULT_CHART_REPOSITORY = "https://istio-release.storage.googleapis.com/charts";
export const DEFAULT_CERT_MANAGER_VERSION = "v1.19.1";

/** The zod error option for a leaf: "<value> is not <noun>; allowed: <allowed>". */
function refused(noun: string, allowed: string) {
  return { error: () => allowedBy(`is not ${noun}`, allowed) };
}

// ---- leaves -------------------------------------------------------------------------------------

const BOOLEAN_ALLOWED = "true or false";

function bool() {
  return z.preprocess(
    (v) => (v === "true" ? true : v === "false" ? false : v),
    z.boolean(refused("a boolean", BOOLEAN_ALLOWED)),
  );
}

function int(noun: string, allowed: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  const r = refused(noun, allowed);
  return z.preprocess(
    (v) => (typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z.number(r).int(r).min(min, r).max(max, r),
  );
}

function str(noun: string, allowed: string, valid: (s: string) => boolean = () => true) {
  const r = refused(noun, allowed);
  return z.string(r).refine(valid, r);
}

const dnsLabel = (noun: string) => str(noun, DNS_LABEL_ALLOWED, isDnsLabel);
const namespaceName = dnsLabel("a namespace name");
const objectName = str("an object name", DNS_NAME_ALLOWED, isDnsName);
const port = int("a port", PORT_ALLOWED, 1, 65535);

const duration = str("a duration", DURATION_ALLOWED, (s) => parseGoDuration(s) !== undefined);

const mtlsMode = z.enum(MTLS_MODES, refused("an mTLS mode", MTLS_MODES.join(", ")));
const clientTlsMode = z.enum(CLIENT_TLS_MODES, refused("a client TLS mode", CLIENT_TLS_MODES.join(", ")));

/** Strict object: unknown fields are reported one by one with the fields that exist. */
function object<S extends z.ZodRawShape>(noun: string, shape: S) {
  const fields = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? allowedBy(`is not a field of ${noun}`, fields)
        : allowedBy(`is not ${noun}`, `an object with fields ${fields}`),
  });
}

function list<T extends z.ZodType>(noun: string, item: T) {
  return z.array(item, refused(`a list of ${noun}`, `a YAML list of ${noun}`));
}

/** A record key schema: zod reports a refused key as `invalid_key`, and still checks the other entries. */
function key(noun: string, allowed: string, valid: (s: string) => boolean) {
  return z.string().refine(valid, refused(noun, allowed));
}

/** `matchLabels`: label keys and values as Kubernetes accepts them. Scalars are taken as their text. */
const labels = z.record(
  key("a label key", LABEL_KEY_ALLOWED, isLabelKey),
  z.preprocess(
    (v) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v),
    str("a label value", LABEL_VALUE_ALLOWED, isLabelValue),
  ),
  refused("a label map", "a map of label key to value, e.g. {app: httpbin}"),
);

/** Decimal port keys → mode; YAML gives the keys as strings. Istio's other rules for it: rules.ts. */
const portLevelMtls = z.record(
  key("a port", PORT_ALLOWED, isPortKey),
  mtlsMode,
  refused("a port map", 'a map of container port to mode, e.g. {"8080": PERMISSIVE}'),
);

/** A non-empty `matchLabels`; `empty` says what an empty one would mean instead. */
function selector(empty: string) {
  return labels.superRefine((m, ctx) => {
    if (Object.keys(m).length === 0) {
      ctx.addIssue({ code: "custom", input: m, message: allowedBy(`is empty ${empty}`, "at least one label, e.g. {app: httpbin}") });
    }
  });
}

// ---- sections -------------------------------------------------------------------------------------

export const CHART_REPOSITORY_ALLOWED =
  "an https:// URL, an oci:// registry, or a folder of unpacked charts (an absolute path, or ./ or ../ relative to the project folder)";
const chartRepository = str("a chart repository", CHART_REPOSITORY_ALLOWED, (s) => isHttpsUrl(s) || isOciUrl(s) || isFolderPath(s));

const ISTIO_VERSION_ALLOWED = 'a version such as "1.28.1", or a build such as "1.31-dev" (quote it in YAML)';
const istioVersion = z.string(refused("an Istio version", ISTIO_VERSION_ALLOWED)).superRefine((s, ctx) => {
  const v = parseIstioVersion(s);
  const [minMajor, minMinor] = MIN_ISTIO_VERSION;
  if (!v) {
    ctx.addIssue({ code: "custom", input: s, message: allowedBy("is not an Istio version", ISTIO_VERSION_ALLOWED) });
  } else if (v[0] < minMajor || (v[0] === minMajor && v[1] < minMinor)) {
    ctx.addIssue({
      code: "custom",
      input: s,
      message: allowedBy("is older than the security.istio.io/v1 APIs this stack emits", `${minMajor}.${minMinor}.0 or later`),
    });
  }
});

export const istioSchema = object("istio", {
  install: bool().default(true),
  version: istioVersion.default(DEFAULT_ISTIO_VERSION),
  chartRepository: chartRepository.default(DEFAULT_CHART_REPOSITORY),
  namespace: namespaceName.default(ISTIOD_NAMESPACE),
  revision: dnsLabel("a revision name").optional(),
  mesh: object("istio.mesh", {
    /** Default: istio.namespace (filled in by loadStackConfig). */
    rootNamespace: namespaceName.optional(),
    trustDomain: str("a trust domain", DNS_NAME_ALLOWED, isDnsName).default(DEFAULT_MESH_CONFIG.trustDomain),
    enableAutoMtls: bool().default(DEFAULT_MESH_CONFIG.enableAutoMtls),
  }).prefault({}),
  /** Default: ingress.enabled (filled in by loadStackConfig). */
  ingressGateway: bool().optional(),
}).prefault({});

export const certManagerSchema = object("certManager", {
  install: bool().default(true),
  version: str("a cert-manager version", 'a version with a leading "v", such as "v1.19.1"', (s) => parseSemver(s, "v") !== undefined).default(
    DEFAULT_CERT_MANAGER_VERSION,
  ),
  namespace: namespaceName.default("cert-manager"),
  /** Default: @pulumi/kubernetes-cert-manager's own (Jetstack's repository). */
  chartRepository: chartRepository.optional(),
}).prefault({});

export const caSchema = object("ca", {
  type: z.enum(["cert-manager", "istiod"], refused("a CA type", "cert-manager, istiod")).default("cert-manager"),
  keyAlgorithm: z.enum(["ECDSA", "RSA"], refused("a key algorithm", "ECDSA, RSA")).default("ECDSA"),
  /** Default: 256 for ECDSA, 2048 for RSA (filled in by loadStackConfig). */
  keySize: int("a key size", Object.entries(KEY_SIZES).map(([algorithm, sizes]) => `${sizes.join(", ")} (${algorithm})`).join("; "), 1).optional(),
  rootDuration: duration.default("87600h"),
  intermediateDuration: duration.default("8760h"),
  intermediateRenewBefore: duration.default("720h"),
}).prefault({});

/** A reviewed, expiring exception to STRICT; written as the annotations the policy pack checks. */
const mtlsException = object("an mTLS exception", {
  reason: str("a reason", "why plaintext is still accepted", (s) => s.trim() !== ""),
  expires: str("a date", "YYYY-MM-DD, the last day the exception is allowed", (s) => parseDay(s) !== undefined),
});

export const namespacesSchema = list(
  "namespaces",
  object("a namespace entry", {
    name: namespaceName,
    injection: bool().default(true),
    /** Required by the policy pack in production for a namespace without injection (plaintext workloads). */
    exception: mtlsException.optional(),
  }),
).default([]);

export const demoSchema = object("demo", { enabled: bool().default(false) }).prefault({});

/**
 * A bare mode (shorthand for `{mode}`), or `{mode, exception}` where PERMISSIVE or DISABLE needs a
 * reviewed exception. Chosen by the value's type, so that each form reports its own errors.
 */
function modeWithException(noun: string) {
  const policy = object(noun, { mode: mtlsMode, exception: mtlsException.optional() });
  return z.unknown().transform((v, ctx): z.output<typeof policy> => {
    const r = typeof v === "string" ? mtlsMode.transform((mode) => ({ mode })).safeParse(v, { reportInput: true }) : policy.safeParse(v, { reportInput: true });
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  });
}

export const mtlsSchema = object("mtls", {
  mesh: modeWithException("a mesh policy").optional(),
  namespaces: z
    .record(
      key("a namespace name", DNS_LABEL_ALLOWED, isDnsLabel),
      modeWithException("a namespace policy"),
      refused("a namespace map", "a map of namespace to mode, e.g. {foo: STRICT} or {foo: {mode: PERMISSIVE, exception: {reason, expires}}}"),
    )
    .default({}),
  workloads: list(
    "workload policies",
    object("a workload policy", {
      namespace: namespaceName,
      name: objectName,
      selector: selector("(that is a namespace policy: use mtls.namespaces)"),
      mode: mtlsMode.optional(),
      portLevelMtls: portLevelMtls.optional(),
      exception: mtlsException.optional(),
    }),
  ).default([]),
}).prefault({});

export const destinationRulesSchema = list(
  "destination rules",
  object("a destination rule", {
    namespace: namespaceName,
    name: objectName,
    host: str("a host", HOST_ALLOWED, isServiceHost),
    mode: clientTlsMode.optional(),
    portLevel: list("port settings", object("a port setting", { port, mode: clientTlsMode.optional() })).optional(),
    exportTo: list(
      "exportTo entries",
      str("an exportTo entry", `".", "*" or a namespace name (${DNS_LABEL_ALLOWED})`, (s) => s === "." || s === "*" || isDnsLabel(s)),
    ).optional(),
  }),
).default([]);

const nonEmpty = (noun: string, allowed: string) => str(noun, allowed, (s) => s.trim().length > 0);

export const endUserAuthSchema = list(
  "end-user auth policies",
  object("an end-user auth policy", {
    namespace: namespaceName,
    name: objectName,
    selector: selector("(the policy must name the workloads that verify tokens)"),
    issuer: nonEmpty("an issuer", 'the token issuer ("iss" claim), non-empty'),
    jwksUri: str("a JWKS URI", "an https:// URL", isHttpsUrl),
    audiences: list("audiences", nonEmpty("an audience", "a non-empty string")).optional(),
    requireToken: bool().default(true),
    paths: list("paths", str("a path", 'a path starting with "/", or a "*" prefix/suffix match', (s) => s.startsWith("/") || s.startsWith("*"))).optional(),
  }),
).default([]);

export const authorizationSchema = list(
  "authorization policies",
  object("an authorization policy", {
    namespace: namespaceName,
    name: objectName,
    selector: selector("(that would lock down every workload of the namespace)"),
    principals: list("principals", str("a principal", PRINCIPAL_ALLOWED, isPrincipal)).optional(),
    namespaces: list("namespaces", str("a namespace", `"*" or ${DNS_LABEL_ALLOWED}`, (s) => s === "*" || isDnsLabel(s))).optional(),
  }),
).default([]);

export const ingressSchema = object("ingress", {
  enabled: bool().default(false),
  tls: bool().default(false),
  host: str("an ingress host", `"*", a DNS name, or "*." followed by a DNS name`, isServiceHost).default("*"),
  /** The gateway chart's `service.type`; NodePort where nothing assigns LoadBalancer addresses (kind). */
  serviceType: z
    .enum(GATEWAY_SERVICE_TYPES, refused("a gateway Service type", GATEWAY_SERVICE_TYPES.join(", ")))
    .default(DEFAULT_GATEWAY_SERVICE_TYPE),
}).prefault({});

const upTo = (noun: string, max: number) => int(noun, `an integer from 1 to ${max}`, 1, max);

export const probeSchema = object("probe", {
  enabled: bool().default(true),
  alwaysRun: bool().default(false),
  requestTimeoutSeconds: upTo("a number of seconds", PROBE_MAXIMA.requestTimeoutSeconds).default(PROBE_DEFAULTS.requestTimeoutSeconds),
  deadlineSeconds: upTo("a number of seconds", PROBE_MAXIMA.deadlineSeconds).default(PROBE_DEFAULTS.deadlineSeconds),
  concurrency: upTo("a concurrency", PROBE_MAXIMA.concurrency).default(PROBE_DEFAULTS.concurrency),
}).prefault({});

/** `<workload>.<namespace>` and `<service>.<namespace>:<port>`, as a Cell names its client and Service port. */
export const INTENT_FROM_ALLOWED = '"<workload>.<namespace>", e.g. "sleep.foo"';
export const INTENT_TO_ALLOWED = '"<service>.<namespace>:<port>", e.g. "httpbin.bar:8000"';

export const intentSchema = list(
  "intents",
  object("an intent", {
    from: str("a client", INTENT_FROM_ALLOWED, (s) => parseIntentFrom(s) !== undefined),
    to: str("a target", INTENT_TO_ALLOWED, (s) => parseIntentTo(s) !== undefined),
    expect: z.enum(INTENT_EXPECTATIONS, refused("an expectation", INTENT_EXPECTATIONS.join(", "))),
  }),
).default([]);

/** One schema per config key, in the order StackConfig lists them. */
export const SECTION_SCHEMAS = {
  production: bool().default(false),
  istio: istioSchema,
  certManager: certManagerSchema,
  ca: caSchema,
  namespaces: namespacesSchema,
  demo: demoSchema,
  mtls: mtlsSchema,
  destinationRules: destinationRulesSchema,
  endUserAuth: endUserAuthSchema,
  authorization: authorizationSchema,
  ingress: ingressSchema,
  probe: probeSchema,
  intent: intentSchema,
} as const;

export type ConfigKey = keyof typeof SECTION_SCHEMAS;
export const CONFIG_KEYS = Object.keys(SECTION_SCHEMAS) as ConfigKey[];

/** The parsed (defaulted, syntax-checked) value of each key, before cross-key checks. */
export type Sections = { [K in ConfigKey]: z.output<(typeof SECTION_SCHEMAS)[K]> };
