/**
 * Charts from a local folder (air-gapped mirrors, and the real-cluster test): a missing chart, a
 * chart of another name or version is a config error naming the key and the file before anything
 * is planned; a good folder plans helm.v3.Releases whose chart is the folder's chart path.
 */
import test from "ava";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadStackConfig } from "../../config";
import { planItems, planStack, releaseArgs, resourceType } from "../../mesh/plan";
import { DEMO_NAMESPACES } from "./load";

function chartFolder(charts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "istio-mtls-charts-"));
  for (const [folder, chartYaml] of Object.entries(charts)) {
    mkdirSync(join(dir, folder));
    writeFileSync(join(dir, folder, "Chart.yaml"), chartYaml);
  }
  return dir;
}
const chart = (name: string, version: string) => `apiVersion: v2\nname: ${name}\nversion: ${version}\n`;
const ISTIO = { base: chart("base", "1.28.1"), istiod: chart("istiod", "1.28.1") };
const CERT_MANAGER = { "cert-manager": chart("cert-manager", "v1.19.1") };

function load(config: Record<string, unknown>, projectDir = "/") {
  return loadStackConfig((k) => ({ namespaces: DEMO_NAMESPACES, ...config })[k], ["namespaces", ...Object.keys(config)], projectDir);
}
function lines(config: Record<string, unknown>, projectDir?: string): string[] {
  try {
    load(config, projectDir);
  } catch (e) {
    if (e instanceof ConfigError) return e.lines;
    throw e;
  }
  return [];
}

test("a good local folder: Istio and cert-manager install from it with helm.v3.Release, no repository", (t) => {
  const dir = chartFolder({ ...ISTIO, ...CERT_MANAGER });
  const plan = planStack(load({ istio: { chartRepository: dir }, certManager: { chartRepository: dir } }));
  const releases = planItems(plan).flatMap((i) => ("release" in i ? [i] : []));
  t.deepEqual(releases.map((r) => [r.release.name, resourceType(r), releaseArgs(r).chart, releaseArgs(r).repositoryOpts]), [
    ["cert-manager", "kubernetes:helm.sh/v3:Release", join(dir, "cert-manager"), undefined],
    ["istio-base", "kubernetes:helm.sh/v3:Release", join(dir, "base"), undefined],
    ["istiod", "kubernetes:helm.sh/v3:Release", join(dir, "istiod"), undefined],
  ]);
  // Still the cert-manager release the mesh CA's objects wait for.
  const selfSigned = planItems(plan).find((i) => i.id === "ClusterIssuer istio-mtls-selfsigned");
  t.truthy(selfSigned);
  t.true(selfSigned!.after.includes("Release cert-manager/cert-manager"));
});

test("a relative folder is resolved against the project folder", (t) => {
  const dir = chartFolder({ ...ISTIO });
  const config = load({ istio: { chartRepository: "./" } }, dir);
  t.is(config.istio.chartRepository, dir);
});

test("without a cert-manager chart repository the component installs Jetstack's chart, as before", (t) => {
  const plan = planStack(load({}));
  const cm = planItems(plan).find((i) => i.id === "Release cert-manager/cert-manager")!;
  t.is(resourceType(cm), "kubernetes-cert-manager:index:CertManager");
  t.deepEqual(releaseArgs(cm as Extract<typeof cm, { release: unknown }>), {
    helmOptions: { name: "cert-manager", namespace: "cert-manager", version: "v1.19.1", values: { crds: { enabled: true } } },
  });
});

test("an https cert-manager repository goes to the component's helmOptions", (t) => {
  const plan = planStack(load({ certManager: { chartRepository: "https://charts.example.com" } }));
  const cm = planItems(plan).find((i) => i.id === "Release cert-manager/cert-manager")!;
  t.is(resourceType(cm), "kubernetes-cert-manager:index:CertManager");
  t.deepEqual((releaseArgs(cm as Extract<typeof cm, { release: unknown }>).helmOptions as { repositoryOpts: unknown }).repositoryOpts, {
    repo: "https://charts.example.com",
  });
});

test("the world is wrong: a missing folder, a missing chart, another chart's name, another version", (t) => {
  const missing = join(tmpdir(), "istio-mtls-no-such-folder");
  t.deepEqual(lines({ istio: { chartRepository: missing } }), [
    `istio-mtls:istio.chartRepository: "${missing}" is not a folder; allowed: one folder per chart, as \`helm pull --untar\` writes them: base/, istiod/`,
  ]);
  const noIstiod = chartFolder({ base: ISTIO.base });
  t.deepEqual(lines({ istio: { chartRepository: noIstiod } }), [
    `istio-mtls:istio.chartRepository: "${noIstiod}" has no istiod/Chart.yaml; allowed: one folder per chart, as \`helm pull --untar\` writes them: base/, istiod/`,
  ]);
  const misnamed = chartFolder({ ...ISTIO, istiod: chart("istio-discovery", "1.28.1") });
  t.deepEqual(lines({ istio: { chartRepository: misnamed } }), [
    `istio-mtls:istio.chartRepository: "${misnamed}" has istiod/Chart.yaml of chart "istio-discovery"; allowed: one folder per chart, as \`helm pull --untar\` writes them: base/, istiod/`,
  ]);
  const older = chartFolder({ ...ISTIO, ...CERT_MANAGER, istiod: chart("istiod", "1.0.0") });
  t.deepEqual(lines({ istio: { chartRepository: older }, certManager: { chartRepository: older, version: "v1.21.2" } }), [
    `istio-mtls:istio.version: "1.28.1" is not the version of ${join(older, "istiod", "Chart.yaml")} ("1.0.0"); allowed: 1.0.0, or charts of version 1.28.1`,
    `istio-mtls:certManager.version: "v1.21.2" is not the version of ${join(older, "cert-manager", "Chart.yaml")} ("v1.19.1"); allowed: v1.19.1, or charts of version v1.21.2`,
  ]);
});

test("the gateway chart is required only when the stack installs the ingress gateway", (t) => {
  const dir = chartFolder({ ...ISTIO });
  t.deepEqual(lines({ istio: { chartRepository: dir } }), []);
  t.deepEqual(lines({ istio: { chartRepository: dir, ingressGateway: true } }), [
    `istio-mtls:istio.chartRepository: "${dir}" has no gateway/Chart.yaml; allowed: one folder per chart, as \`helm pull --untar\` writes them: base/, istiod/, gateway/`,
  ]);
});

test("charts are not read when the stack does not install Istio or cert-manager", (t) => {
  const missing = join(tmpdir(), "istio-mtls-no-such-folder");
  t.deepEqual(lines({ istio: { install: false, chartRepository: missing }, certManager: { install: false, chartRepository: missing } }), []);
});
