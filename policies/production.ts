/**
 * Whether a stack is reviewed as production. The stack declares it (ConfigMap istio-mtls-intent,
 * data.production), but the stack under review must not be able to opt out: the pack config, set
 * by the platform team per stack (`{"<policy>": {"production": true}}`), can require it too.
 */
import type { StackAnalysis } from "./analysis";

export interface ProductionConfig {
  /** true: review as production whatever the stack declares; false or omitted: as the stack declares. */
  production?: boolean;
}

/** The configSchema property of every policy that only runs on production stacks. */
export const PRODUCTION_CONFIG_PROPERTY = { production: { type: "boolean", default: false } } as const;

export type Production =
  | { production: true; /** Who says so, to start the violation with. */ by: string; urn?: string }
  | { production: false; notApplicable: string }
  | { production: undefined; error: string };

export function productionOf(a: StackAnalysis, config: ProductionConfig): Production {
  // The pack config wins: a missing or broken intent ConfigMap does not lift the review either.
  if (config.production === true) return { production: true, by: "the pack config says production: true", urn: a.intent?.urn };
  if (a.intentError) return { production: undefined, error: `cannot tell whether this stack is production: ${a.intentError}` };
  if (!a.intent) return { production: false, notApplicable: "no ConfigMap istio-mtls-intent: the stack does not declare production" };
  if (!a.intent.production) return { production: false, notApplicable: `${a.intent.ref} declares production: false` };
  return { production: true, by: `${a.intent.ref} declares production: true`, urn: a.intent.urn };
}
