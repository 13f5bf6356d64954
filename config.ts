/**
 * The stack configuration: typed, defaulted and validated before any resource is registered.
 * Every error names the key (`istio-mtls:<key>.<path>`), the value found and what is allowed.
 *
 * Stack config keys (one per StackConfig field), as written in `Pulumi.<stack>.yaml`:
 *
 * - `istio-mtls:production` boolean, default false.
 * - `istio-mtls:istio` {install, version "1.28.1" (≥ 1.22; or a build "1.31-dev"), chartRepository (https://, oci://, or a
 *   folder of unpacked charts: absolute, or ./ ../ relative to the project folder),
 *   namespace "istio-system", revision?, mesh: {rootNamespace (default: istio.namespace),
 *   trustDomain "cluster.local", enableAutoMtls true}, ingressGateway (default: ingress.enabled)}.
 * - `istio-mtls:certManager` {install true, version "v1.19.1", namespace "cert-manager", chartRepository?
 *   (as istio's; default: @pulumi/kubernetes-cert-manager's)}. A local chart folder must hold
 *   the charts of the configured versions (config/charts.ts).
 * - `istio-mtls:ca` {type "cert-manager"|"istiod", keyAlgorithm "ECDSA"|"RSA", keySize (256 ECDSA,
 *   2048 RSA), rootDuration "87600h" > intermediateDuration "8760h" > intermediateRenewBefore "720h"}.
 * - `istio-mtls:namespaces` [{name, injection (default true), exception?: {reason, expires: YYYY-MM-DD}}]:
 *   the namespaces the stack creates and owns; in production the policy pack requires the
 *   exception (annotations on the Namespace) where injection is false. Every policy below must live in one of them (DestinationRules, end-user auth and
 *   authorization may also live in the mesh root namespace): the stack can only promise to
 *   delete what it created, and the model can only predict namespaces it knows.
 * - `istio-mtls:demo` {enabled false}: httpbin and sleep in every listed namespace.
 * - `istio-mtls:mtls` {mesh?: POLICY, namespaces?: {<ns>: POLICY}, workloads?: [{namespace, name,
 *   selector (non-empty), mode?, portLevelMtls?: {"<containerPort>": MODE}, exception?: EXCEPTION}]},
 *   POLICY a bare MODE or {mode: MODE, exception?: EXCEPTION}, EXCEPTION {reason, expires: YYYY-MM-DD},
 *   MODE one of UNSET, DISABLE, PERMISSIVE, STRICT. The mesh policy lands in the mesh root namespace.
 * - `istio-mtls:destinationRules` [{namespace, name, host, mode?, portLevel?: [{port, mode?}], exportTo?}],
 *   modes DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL; ports are Service ports.
 * - `istio-mtls:endUserAuth` [{namespace, name, selector, issuer, jwksUri (https), audiences?,
 *   requireToken (default true), paths?}].
 * - `istio-mtls:authorization` [{namespace, name, selector, principals?, namespaces?}], at least one
 *   source list; principals `<trustDomain>/ns/<ns>/sa/<sa>` or "*".
 * - `istio-mtls:ingress` {enabled false, tls false, host "*", serviceType "LoadBalancer"}.
 * - `istio-mtls:probe` {enabled true, alwaysRun false, requestTimeoutSeconds 5 (1..300), deadlineSeconds 180 (1..3600), concurrency 4 (1..100)}.
 * - `istio-mtls:intent` [{from: "sleep.foo", to: "httpbin.bar:8000", expect: mtls|allowed|refused}].
 *
 * Booleans and numbers may also be strings ("true", "5"), as `pulumi config set` stores them.
 * Port-keyed maps need quoted keys in YAML (`"8080": STRICT`).
 */
import { ConfigError, CONFIG_NAMESPACE, didYouMean, fromZodIssues, type ConfigIssue } from "./config/errors";
import { readStackConfigFile, stackFileGetter } from "./config/file";
import { checkLocalCharts } from "./config/charts";
import { checkRules, rootNamespaceOf, type ParsedSections } from "./config/rules";
import { CONFIG_KEYS, SECTION_SCHEMAS, type ConfigKey, type Sections } from "./config/schema";
import { dirname, resolve } from "node:path";
import { isFolderPath } from "./config/values";
import { KEY_SIZES } from "./mesh/builders/mesh-ca";
import type { StackSettings } from "./mesh/settings";
import type { MtlsMode } from "./mesh/types";

/** The validated stack config: what planStack (mesh/plan.ts) reads, plus the probe's settings. */
export type StackConfig = StackSettings;

export { CONFIG_KEYS, ConfigError, readStackConfigFile, stackFileGetter };
export type { ConfigIssue, ConfigKey };

/**
 * Reads, defaults and validates every `istio-mtls:<key>`. `get(key)` returns the parsed value of
 * the key (objects and lists parsed, scalars as booleans/numbers or their strings), undefined when
 * absent. `presentKeys`, when given, are the config keys that are set (`istio-mtls:x` or bare `x`;
 * other namespaces such as `kubernetes:context` are skipped), so that misspelt keys are reported.
 * Relative chart folders are resolved against `projectDir` (Pulumi runs the program there).
 * Throws one ConfigError listing every problem.
 */
export function loadStackConfig(get: (key: string) => unknown, presentKeys?: Iterable<string>, projectDir = process.cwd()): StackConfig {
  const issues: ConfigIssue[] = [];
  for (const full of presentKeys ?? []) {
    const colon = full.indexOf(":");
    const namespace = colon >= 0 ? full.slice(0, colon) : CONFIG_NAMESPACE;
    const key = colon >= 0 ? full.slice(colon + 1) : full;
    if (namespace !== CONFIG_NAMESPACE) {
      // Another provider's key (kubernetes:context) is not ours to check; a near-miss of ours would be dropped silently.
      if (didYouMean(namespace, [CONFIG_NAMESPACE])) {
        issues.push({
          namespace,
          path: [key],
          found: `namespace ${JSON.stringify(namespace)} is not ${CONFIG_NAMESPACE} (did you mean ${JSON.stringify(`${CONFIG_NAMESPACE}:${key}`)}?)`,
          allowed: `${CONFIG_NAMESPACE}:<key>, or another provider's namespace (e.g. kubernetes:context)`,
        });
      }
      continue;
    }
    if (!(CONFIG_KEYS as string[]).includes(key)) {
      issues.push({ path: [key], found: `${JSON.stringify(key)} is not a config key${didYouMean(key, CONFIG_KEYS)}`, allowed: CONFIG_KEYS.join(", ") });
    }
  }

  const parsed: ParsedSections = {};
  for (const key of CONFIG_KEYS) {
    const result = SECTION_SCHEMAS[key].safeParse(get(key), { reportInput: true });
    if (result.success) (parsed as Record<string, unknown>)[key] = result.data;
    else issues.push(...fromZodIssues([key], result.error.issues));
  }
  issues.push(...checkRules(parsed));
  if (issues.length > 0) throw new ConfigError(issues);
  const config = toStackConfig(parsed as Sections, projectDir);
  const chartIssues = checkLocalCharts(config);
  if (chartIssues.length > 0) throw new ConfigError(chartIssues);
  return config;
}

/** loadStackConfig over a `Pulumi.<stack>.yaml`, for tools that run without Pulumi; the project folder is the file's. */
export function loadStackConfigFile(path: string): StackConfig {
  const config = readStackConfigFile(path);
  return loadStackConfig(stackFileGetter(config), Object.keys(config), dirname(path));
}

/**
 * A `get` over `new pulumi.Config("istio-mtls")` (structurally typed: this module does not import
 * Pulumi). Values are JSON-parsed as `getObject` does; a scalar that is not JSON stays a string,
 * where `getObject` would throw without naming what is allowed.
 */
export function pulumiConfigGetter(config: { get(key: string): string | undefined }): (key: string) => unknown {
  return (key) => {
    const raw = config.get(key);
    if (raw === undefined) return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  };
}

/** From the validated user-facing shapes to the typed inputs of the builders, defaults derived. */
function toStackConfig(s: Sections, projectDir: string): StackConfig {
  const rootNamespace = rootNamespaceOf(s)!;
  const { ingressGateway, revision, ...istio } = s.istio;
  const folder = (repository: string) => (isFolderPath(repository) ? resolve(projectDir, repository) : repository);
  const { keySize, ...ca } = s.ca;
  return {
    production: s.production,
    istio: {
      ...istio,
      chartRepository: folder(istio.chartRepository),
      ...(revision !== undefined ? { revision } : {}),
      mesh: { ...s.istio.mesh, rootNamespace },
      ingressGateway: ingressGateway ?? s.ingress.enabled,
    },
    certManager: dropUndefined({ ...s.certManager, chartRepository: s.certManager.chartRepository && folder(s.certManager.chartRepository) }),
    ca: { ...ca, keySize: keySize ?? KEY_SIZES[ca.keyAlgorithm][0] },
    namespaces: s.namespaces.map((ns) => dropUndefined(ns)),
    demo: s.demo,
    mtls: {
      ...(s.mtls.mesh !== undefined ? { mesh: dropUndefined(s.mtls.mesh) } : {}),
      namespaces: Object.keys(s.mtls.namespaces)
        .sort()
        .map((namespace) => ({ namespace, ...dropUndefined(s.mtls.namespaces[namespace]) })),
      workloads: s.mtls.workloads.map(({ mode, portLevelMtls, ...w }) => ({
        ...w,
        ...(mode !== undefined ? { mode } : {}),
        ...(portLevelMtls !== undefined ? { portLevelMtls: portMap(portLevelMtls) } : {}),
      })),
    },
    destinationRules: s.destinationRules.map((dr) => dropUndefined(dr)),
    endUserAuth: s.endUserAuth.map((p) => dropUndefined(p)),
    authorization: s.authorization.map((p) => dropUndefined(p)),
    ingress: s.ingress,
    probe: s.probe,
    intent: s.intent,
  };
}

function portMap(m: Record<string, MtlsMode>): Record<number, MtlsMode> {
  const out: Record<number, MtlsMode> = {};
  for (const k of Object.keys(m).sort((a, b) => Number(a) - Number(b))) out[Number(k)] = m[k];
  return out;
}

/** Optional fields absent rather than `undefined`, so deep-equal and Pulumi inputs stay clean. */
function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
