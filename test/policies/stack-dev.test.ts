/**
 * The whole pack over the dev stack as index.ts registers it under Pulumi mocks (the stack
 * engineer's recording helper), the way `pulumi preview -s dev --policy-pack policies` sees it.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { istioMtlsPolicies } from "../../policies/pack";
import { runPolicies } from "../../policies/run";
import { analyzeStack } from "../../policies/analysis";
import { REPO_ROOT, runStackProgram } from "../helpers/program";

const NOW = () => new Date("2026-12-01T00:00:00Z");
const AFTER_EXPIRY = () => new Date("2027-02-16T00:00:00Z");

async function devResources() {
  const { recorder } = await runStackProgram("dev", { preview: true });
  return recorder.registrations.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs }));
}

test("dev: the model reads the stack as deployed; its port exception passes until it expires", async (t) => {
  const resources = await devResources();
  const a = analyzeStack(resources);
  t.is(a.modelError, undefined);
  // httpbin, sleep and the probe client in foo, bar and legacy, and the plaintext probe client, each to 3 Service ports.
  t.is(a.prediction!.probes.length, 10 * 3);
  const cell = (from: string, to: string) => a.prediction!.probes.find((p) => p.from === from && p.to === to)!;
  t.like(cell("sleep.legacy", "httpbin.foo:8000"), { code: 0 });
  t.like(cell("sleep.legacy", "httpbin.bar:8000"), { code: 200, mtls: false });

  t.deepEqual(await runPolicies(istioMtlsPolicies({ now: NOW }), resources), []);

  const expired = await runPolicies(istioMtlsPolicies({ now: AFTER_EXPIRY }), resources);
  t.deepEqual(expired.map((f) => `${f.level} ${f.policy}`), ["mandatory mtls-exception-annotations"]);
  t.regex(expired[0].message, /^PeerAuthentication bar\/httpbin .*the exception expired on 2027-02-15/);

  // dev's pack config (the one the workflows pass) makes an expired demo exception advisory.
  const config = JSON.parse(readFileSync(join(REPO_ROOT, "policies", "config", "dev.json"), "utf8")) as PolicyPackConfig;
  const withConfig = await runPolicies(istioMtlsPolicies({ now: AFTER_EXPIRY }), resources, config);
  t.deepEqual([...new Set(withConfig.map((f) => f.level))], ["advisory"]);
});
