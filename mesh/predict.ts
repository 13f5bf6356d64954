/**
 * The mesh model: predicts what `curl http://<service>.<namespace>:<port><path>` from each client
 * workload observes, following the mesh rules document (istio-mtls-rules.md) and Istio's source where they differ.
 */
import type { KubeObject } from "./types";
import type { Prediction, ProbeOutcome, ProbeRequest } from "./prediction";
import { buildModel, type MeshModel } from "./model/index";
import { OutcomeEngine } from "./model/outcome";

export { MODEL_KINDS, MODEL_API_VERSIONS } from "./model/kinds";
export { ModelInputError } from "./model/errors";

export interface PredictOptions {
  request?: ProbeRequest;
  /** Client workloads as `<name>.<namespace>`; default all. */
  from?: string[];
}

export function predict(objects: readonly KubeObject[], options: PredictOptions = {}): Prediction {
  return predictModel(buildModel(objects), options);
}

/** The same prediction from a model already built (callers that also query the model itself). */
export function predictModel(model: MeshModel, options: PredictOptions = {}): Prediction {
  const req = options.request ?? {};
  const engine = new OutcomeEngine(model, {
    method: req.method ?? "GET",
    path: req.path ?? "/headers",
    token: req.token ?? { kind: "none" },
  });
  const wanted = options.from ? new Set(options.from) : undefined;
  const clients = model.workloads
    .filter((w) => w.running && (!wanted || wanted.has(w.id)))
    .sort((a, b) => (a.namespace !== b.namespace ? (a.namespace < b.namespace ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const probes: ProbeOutcome[] = new Array(clients.length * model.servicePorts.length);
  let i = 0;
  for (const c of clients) {
    for (const sp of model.servicePorts) probes[i++] = engine.outcome(c, sp, c.id);
  }
  return { probes };
}
