/**
 * The Node.js minimum: one constant (NODE_MINIMUM), equal to package.json "engines" and at least
 * what every runtime dependency in package-lock.json declares; checked as a pure function of a
 * version string, where the program starts and where the probe transport is made.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assertNodeVersion, kubernetesTransport, NODE_MINIMUM, nodeVersionProblem } from "../../probe/transport";

const ROOT = join(__dirname, "..", "..");
const semver = require("semver") as { satisfies(v: string, range: string): boolean; minVersion(range: string): { version: string } | null; gte(a: string, b: string): boolean };

test("versions older than the minimum fail, the minimum and newer pass", (t) => {
  for (const old of ["20.20.2", "v20.20.2", "22.18.0", "v22.18.0", "22.9.0", "18.20.8"]) {
    t.truthy(nodeVersionProblem(old), old);
  }
  for (const ok of ["22.19.0", "v22.19.0", "22.23.3", "v24.0.0", "24.0.0", "23.0.0", "100.0.0"]) {
    t.is(nodeVersionProblem(ok), undefined, ok);
  }
  t.truthy(nodeVersionProblem("not a version"));
});

test("the message names the version found, the minimum and what to do", (t) => {
  const m = nodeVersionProblem("v20.20.2")!;
  t.true(m.includes('Node.js "v20.20.2"'), m);
  t.true(m.includes(`allowed: Node.js >= ${NODE_MINIMUM}`), m);
  t.regex(m, /Install Node\.js 22\.19\.0 or later .* first on PATH/);
  t.throws(() => assertNodeVersion("v22.18.0"), { message: m.replace("v20.20.2", "v22.18.0") });
  t.notThrows(() => assertNodeVersion("v22.19.0"));
});

test("NODE_MINIMUM is package.json engines.node", (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
  t.is(pkg.engines.node, `>=${NODE_MINIMUM}`);
});

test("NODE_MINIMUM satisfies every runtime dependency's engines.node in package-lock.json (dev-only packages aside)", (t) => {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean; engines?: { node?: string } | string[] }>;
  };
  let binding = { name: "", min: "0.0.0" };
  let checked = 0;
  for (const [path, entry] of Object.entries(lock.packages)) {
    // "" is this project (its engines is package.json's); dev and devOptional are not installed by `npm ci --omit=dev`.
    if (path === "" || entry.dev || entry.devOptional) continue;
    const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    if (!range) continue;
    checked++;
    t.true(semver.satisfies(NODE_MINIMUM, range), `${path} requires node ${range}`);
    const min = semver.minVersion(range)?.version ?? "0.0.0";
    t.true(semver.gte(NODE_MINIMUM, min), `${path} needs at least ${min}`);
    if (semver.gte(min, binding.min)) binding = { name: path, min };
  }
  t.true(checked > 50);
  // Today the binding constraint is undici's (pulled by @kubernetes/client-node).
  t.is(binding.min, NODE_MINIMUM, `binding: ${binding.name}`);
});

test.serial("the real transport checks the Node version before loading @kubernetes/client-node", (t) => {
  const saved = Object.getOwnPropertyDescriptor(process, "version")!;
  Object.defineProperty(process, "version", { ...saved, value: "v22.18.0" });
  try {
    const e = t.throws(() => kubernetesTransport({ kubeconfig: "apiVersion: v1\nkind: Config\n" }));
    t.is(e!.message, nodeVersionProblem("v22.18.0")!);
  } finally {
    Object.defineProperty(process, "version", saved);
  }
});
