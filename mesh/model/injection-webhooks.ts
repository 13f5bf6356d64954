/**
 * Which Istio revisions are installed, as the API server sees them: the sidecar injector's
 * MutatingWebhookConfigurations and their namespace and object selectors. A pod reaches an
 * injector only if one of these webhooks selects it (then injectRequired decides, workloads.ts).
 * The input's MutatingWebhookConfigurations are the installed revisions; without any, the caller
 * names them (the stack knows its own), else the default revision alone is taken.
 */
import type { KubeObject, Labels } from "../types";
import { ModelInputError, objectRef } from "./errors";

export const INJECT_LABEL = "sidecar.istio.io/inject";
export const INJECTION_NAMESPACE_LABEL = "istio-injection";
export const REVISION_LABEL = "istio.io/rev";
/** The API server labels every namespace with its name (Kubernetes 1.21+); webhooks may select on it. */
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
/** The default revision's name in labels (the chart writes "default" for `revision: ""`). */
export const DEFAULT_REVISION = "default";

export interface SelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

/** metav1.LabelSelector: every matchLabels entry and every requirement must hold; absent or empty selects all. */
export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: SelectorRequirement[];
}

export interface InjectionWebhook {
  /** `<MutatingWebhookConfiguration>/<webhook>`. */
  name: string;
  /** The revision it injects for (the configuration's istio.io/rev label). */
  revision: string;
  namespaceSelector: LabelSelector | undefined;
  objectSelector: LabelSelector | undefined;
}

export interface InstalledRevisions {
  webhooks: InjectionWebhook[];
  /** Installed revision names, for reasons. */
  revisions: string[];
  /** The default revision was assumed: no webhook in the input, none named by the caller. */
  assumed: boolean;
}

export function selectorMatches(s: LabelSelector | undefined, labels: Labels): boolean {
  if (!s) return true;
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const r of s.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, r.key);
    const inValues = has && (r.values ?? []).includes(labels[r.key]!);
    switch (r.operator) {
      case "In":
        if (!inValues) return false;
        break;
      case "NotIn":
        if (inValues) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
    }
  }
  return true;
}

const NOT_OPTED_OUT: SelectorRequirement = { key: INJECT_LABEL, operator: "NotIn", values: ["false"] };

/**
 * The webhooks the istio-discovery chart installs for a revision in istio-system (istio/istio
 * manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml, without
 * enableNamespacesByDefault): rev.namespace and rev.object for every revision, namespace and
 * object only for the default one (revision ""). The differential test checks these against the
 * chart as Istio renders it.
 */
export function chartWebhooks(revision: string): InjectionWebhook[] {
  const config = revision === DEFAULT_REVISION ? "istio-sidecar-injector" : `istio-sidecar-injector-${revision}`;
  const hook = (prefix: string, namespaceSelector: SelectorRequirement[], objectSelector: SelectorRequirement[]): InjectionWebhook => ({
    name: `${config}/${prefix}sidecar-injector.istio.io`,
    revision,
    namespaceSelector: { matchExpressions: namespaceSelector },
    objectSelector: { matchExpressions: objectSelector },
  });
  const hooks = [
    hook("rev.namespace.", [{ key: REVISION_LABEL, operator: "In", values: [revision] }, { key: INJECTION_NAMESPACE_LABEL, operator: "DoesNotExist" }], [NOT_OPTED_OUT]),
    hook(
      "rev.object.",
      [{ key: REVISION_LABEL, operator: "DoesNotExist" }, { key: INJECTION_NAMESPACE_LABEL, operator: "DoesNotExist" }],
      [NOT_OPTED_OUT, { key: REVISION_LABEL, operator: "In", values: [revision] }],
    ),
  ];
  if (revision === DEFAULT_REVISION) {
    hooks.push(
      hook("namespace.", [{ key: INJECTION_NAMESPACE_LABEL, operator: "In", values: ["enabled"] }], [NOT_OPTED_OUT]),
      hook(
        "object.",
        [{ key: INJECTION_NAMESPACE_LABEL, operator: "DoesNotExist" }, { key: REVISION_LABEL, operator: "DoesNotExist" }],
        [{ key: INJECT_LABEL, operator: "In", values: ["true"] }, { key: REVISION_LABEL, operator: "DoesNotExist" }],
      ),
    );
  }
  return hooks;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];

function readSelector(ref: string, field: string, v: unknown): LabelSelector | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw new ModelInputError(ref, `${field} must be a label selector`);
  const out: LabelSelector = {};
  if (v.matchLabels !== undefined && v.matchLabels !== null) {
    if (!isRecord(v.matchLabels) || Object.values(v.matchLabels).some((x) => typeof x !== "string")) {
      throw new ModelInputError(ref, `${field}.matchLabels must be a map of strings`);
    }
    out.matchLabels = v.matchLabels as Labels;
  }
  if (v.matchExpressions !== undefined && v.matchExpressions !== null) {
    if (!Array.isArray(v.matchExpressions)) throw new ModelInputError(ref, `${field}.matchExpressions must be a list`);
    out.matchExpressions = v.matchExpressions.map((e, i) => {
      const at = `${field}.matchExpressions[${i}]`;
      if (!isRecord(e) || typeof e.key !== "string" || typeof e.operator !== "string" || !OPERATORS.includes(e.operator)) {
        throw new ModelInputError(ref, `${at} needs a key and an operator (${OPERATORS.join(", ")})`);
      }
      const values = e.values ?? [];
      if (!Array.isArray(values) || values.some((x) => typeof x !== "string")) throw new ModelInputError(ref, `${at}.values must be a list of strings`);
      // The API server's validation (metav1 validation of LabelSelectorRequirement).
      if ((e.operator === "In" || e.operator === "NotIn") !== values.length > 0) {
        throw new ModelInputError(ref, `${at}.values must be ${e.operator === "In" || e.operator === "NotIn" ? "non-empty" : "empty"} for operator ${e.operator}`);
      }
      return { key: e.key, operator: e.operator as SelectorRequirement["operator"], ...(values.length ? { values: values as string[] } : {}) };
    });
  }
  return out;
}

/** Whether a webhook's rules send pod creations to it. */
function coversPodCreate(rules: unknown): boolean {
  if (!Array.isArray(rules)) return false;
  return rules.some((r) => {
    if (!isRecord(r)) return false;
    const resources = Array.isArray(r.resources) ? r.resources : [];
    const operations = Array.isArray(r.operations) ? r.operations : [];
    return (resources.includes("pods") || resources.includes("*")) && (operations.includes("CREATE") || operations.includes("*"));
  });
}

/**
 * The sidecar injector webhooks of the input's MutatingWebhookConfigurations: webhooks named
 * `…sidecar-injector.istio.io` (the chart's names) whose rules cover pod creation. Other
 * mutating webhooks do not add Istio sidecars.
 */
export function readInjectionWebhooks(objects: readonly KubeObject[]): InjectionWebhook[] {
  const out: InjectionWebhook[] = [];
  for (const o of objects) {
    if (o.kind !== "MutatingWebhookConfiguration") continue;
    const ref = objectRef(o.kind, undefined, o.metadata.name);
    const revision = o.metadata.labels?.[REVISION_LABEL] ?? DEFAULT_REVISION;
    const hooks = (o as { webhooks?: unknown }).webhooks ?? [];
    if (!Array.isArray(hooks)) throw new ModelInputError(ref, "webhooks must be a list");
    hooks.forEach((h, i) => {
      if (!isRecord(h) || typeof h.name !== "string") throw new ModelInputError(ref, `webhooks[${i}].name must be a string`);
      if (!h.name.endsWith("sidecar-injector.istio.io") || !coversPodCreate(h.rules)) return;
      out.push({
        name: `${o.metadata.name}/${h.name}`,
        revision,
        namespaceSelector: readSelector(ref, `webhooks[${i}].namespaceSelector`, h.namespaceSelector),
        objectSelector: readSelector(ref, `webhooks[${i}].objectSelector`, h.objectSelector),
      });
    });
  }
  return out;
}

/** `revisions`: the caller's own (the stack knows what it installs); else the input's webhooks; else the default revision, with a notice. */
export function installedRevisions(objects: readonly KubeObject[], revisions?: readonly string[]): InstalledRevisions {
  if (revisions && revisions.length > 0) return { webhooks: revisions.flatMap(chartWebhooks), revisions: [...revisions], assumed: false };
  const fromInput = readInjectionWebhooks(objects);
  if (fromInput.length > 0) return { webhooks: fromInput, revisions: [...new Set(fromInput.map((w) => w.revision))].sort(), assumed: false };
  return { webhooks: chartWebhooks(DEFAULT_REVISION), revisions: [DEFAULT_REVISION], assumed: true };
}

/**
 * When the default revision was assumed and the input names other revisions (istio.io/rev on a
 * namespace or pod), the assumption decides those sidecars: the notice says which, and how to give
 * the cluster's revisions. Without such labels it stays silent (the usual single-revision mesh).
 */
export function assumedRevisionNotice(installed: InstalledRevisions, labelled: readonly { where: string; labels: Labels }[]): string | undefined {
  if (!installed.assumed) return undefined;
  const named = labelled.filter((l) => l.labels[REVISION_LABEL] !== undefined && l.labels[REVISION_LABEL] !== DEFAULT_REVISION);
  if (named.length === 0) return undefined;
  const shown = named.slice(0, 3).map((l) => `${l.where} ${REVISION_LABEL}=${l.labels[REVISION_LABEL]}`);
  const more = named.length > 3 ? ` and ${named.length - 3} more` : "";
  return (
    `no MutatingWebhookConfiguration in the input: only the default revision is taken as installed, so ${shown.join(", ")}${more} get no sidecar; ` +
    "add the cluster's MutatingWebhookConfigurations (kubectl get mutatingwebhookconfigurations -o yaml) to predict with its revisions"
  );
}

/** The webhook the API server calls for a pod, if any (the first that selects it). */
export function selectingWebhook(installed: InstalledRevisions, namespace: string, nsLabels: Labels, podLabels: Labels): InjectionWebhook | undefined {
  const ns = { ...nsLabels, [NAMESPACE_NAME_LABEL]: namespace };
  return installed.webhooks.find((w) => selectorMatches(w.namespaceSelector, ns) && selectorMatches(w.objectSelector, podLabels));
}
