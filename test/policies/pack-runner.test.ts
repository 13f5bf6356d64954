/**
 * The pack as `pulumi preview --policy-pack policies` runs it: Pulumi's own runner
 * (@pulumi/pulumi/cmd/run-policy-pack, ts-node with policies/tsconfig.json, cwd = policies/)
 * starts the analyzer, which this test asks over gRPC, as the engine does, for its policies
 * and for an analysis of a stack. Proves that the pack loads from policies/ with dependencies
 * resolved from the repository's node_modules.
 */
import test from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { demoMesh, asResources, intentConfigMap, peerAuthentication } from "./helpers";

/* eslint-disable @typescript-eslint/no-require-imports */
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb") as Record<string, new () => any>;
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb") as { AnalyzerClient: new (addr: string, creds: grpc.ChannelCredentials) => any };
const emptyPb = require("google-protobuf/google/protobuf/empty_pb") as { Empty: new () => unknown };
const structPb = require("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript(v: object): unknown } };

const root = join(__dirname, "..", "..");
let child: ChildProcess | undefined;
let client: any;

test.before(async () => {
  child = spawn(process.execPath, [join(root, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:1", "."], {
    cwd: join(root, "policies"),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    let err = "";
    child!.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child!.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child!.on("exit", (code) => reject(new Error(`run-policy-pack exited ${code}: ${err || out}`)));
  });
  client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

test.after.always(() => {
  if (child?.pid && child.exitCode === null) child.kill("SIGTERM");
});

function call<T>(method: string, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => client[method](req, (e: Error | null, r: T) => (e ? reject(e) : resolve(r))));
}

test("the analyzer lists the pack's policies, mandatory by default", async (t) => {
  const info = await call<any>("getAnalyzerInfo", new emptyPb.Empty());
  t.is(info.getName(), "istio-mtls");
  const policies = info.getPoliciesList().map((p: any) => p.getName()).sort();
  t.deepEqual(policies, [
    "authorization-identity-needs-strict",
    "connectivity-intent",
    "destination-rule-breaks-traffic",
    "mtls-exception-annotations",
    "peer-authentication-shapes",
    "production-mesh-strict",
    "production-sidecar-exceptions",
    "request-authentication-requires-token",
  ]);
});

function analyzerResource(r: ReturnType<typeof asResources>[number]): any {
  const res = new analyzerPb.AnalyzerResource();
  res.setType(r.type);
  res.setName(r.name);
  res.setUrn(r.urn);
  res.setProperties(structPb.Struct.fromJavaScript(r.props));
  res.setOptions(new analyzerPb.AnalyzerResourceOptions());
  return res;
}

const messages = (response: any): string[] => response.getDiagnosticsList().map((d: any) => `${d.getPolicyname()} [${d.getEnforcementlevel()}]: ${d.getMessage()}`);

test("AnalyzeStack over a production stack without mesh STRICT reports the violation", async (t) => {
  const req = new analyzerPb.AnalyzeStackRequest();
  req.setResourcesList(asResources([...demoMesh(), intentConfigMap(true)]).map(analyzerResource));
  const all = messages(await call<any>("analyzeStack", req));
  // legacy has no sidecars and no exception: production-sidecar-exceptions reports it (twice).
  t.is(all.filter((d) => d.startsWith("production-sidecar-exceptions")).length, 2, all.join("\n"));
  const diagnostics = all.filter((d) => !d.startsWith("production-sidecar-exceptions"));
  t.is(diagnostics.length, 1, diagnostics.join("\n"));
  // The server prefixes each message with the policy's description.
  t.regex(diagnostics[0], /^production-mesh-strict \[1\]: [\s\S]*no PeerAuthentication without a selector in root namespace istio-system\. 4 request\(s\) to sidecar servers/);
});

test("AnalyzeStack over a compliant production stack reports nothing", async (t) => {
  const req = new analyzerPb.AnalyzeStackRequest();
  // legacy's sidecar-less workloads are an approved exception, expiring within the default 90 days.
  const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  const objects = demoMesh().map((o) =>
    o.kind === "Namespace" && o.metadata.name === "legacy"
      ? { ...o, metadata: { ...o.metadata, annotations: { "istio-mtls.dev/exception-reason": "legacy clients", "istio-mtls.dev/exception-expires": expires } } }
      : o,
  );
  req.setResourcesList(asResources([...objects, intentConfigMap(true), peerAuthentication("istio-system", "default", { mtls: { mode: "STRICT" } })]).map(analyzerResource));
  t.deepEqual(messages(await call<any>("analyzeStack", req)), []);
});

test("Analyze runs the resource policy on one PeerAuthentication", async (t) => {
  const r = asResources([peerAuthentication("foo", "default", { mtls: { mode: "PERMISSIVE" } })])[0];
  const req = new analyzerPb.AnalyzeRequest();
  req.setType(r.type);
  req.setName(r.name);
  req.setUrn(r.urn);
  req.setProperties(structPb.Struct.fromJavaScript(r.props));
  req.setOptions(new analyzerPb.AnalyzerResourceOptions());
  const diagnostics = messages(await call<any>("analyze", req));
  t.is(diagnostics.length, 2, diagnostics.join("\n"));
  t.true(diagnostics.every((d) => /^mtls-exception-annotations \[1\]: [\s\S]*PeerAuthentication foo\/default lets plaintext in/.test(d)));
});
