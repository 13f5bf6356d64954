/** Loading a config given as a plain map of `istio-mtls:` keys (short names) to values. */
import type { ExecutionContext } from "ava";
import { ConfigError, loadStackConfig, type StackConfig } from "../../config";

export function load(config: Record<string, unknown>): StackConfig {
  return loadStackConfig((k) => config[k], Object.keys(config));
}

/** The error lines of a config that must be rejected. */
export function rejected(t: ExecutionContext, config: Record<string, unknown>): string[] {
  const e = t.throws(() => load(config), { instanceOf: ConfigError });
  return e ? e.lines : [];
}

/** foo and bar with sidecars, legacy without: the namespaces of the seed documents. */
export const DEMO_NAMESPACES = [
  { name: "foo", injection: true },
  { name: "bar", injection: true },
  { name: "legacy", injection: false },
];
