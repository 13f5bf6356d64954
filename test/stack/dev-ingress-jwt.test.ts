import test from "ava";
import { runStackProgram, type StackRun } from "../helpers/program";

// dev with the ingress (HTTPS) and the commented-out end-user JWT policy switched on.
let run: StackRun;
test.before(async () => {
  run = await runStackProgram("dev", {
    overrides: {
      "istio-mtls:ingress": { enabled: true, tls: true, host: "httpbin.example.com" },
      "istio-mtls:endUserAuth": [
        {
          namespace: "foo",
          name: "httpbin-jwt",
          selector: { app: "httpbin" },
          issuer: "testing@secure.istio.io",
          jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.28/security/tools/jwt/samples/jwks.json",
          requireToken: true,
          paths: ["/headers"],
        },
      ],
    },
  });
});

test("the gateway release follows istiod; the ingress objects follow the gateway and httpbin.foo", (t) => {
  const r = run.recorder;
  const istiod = r.get("kubernetes:helm.sh/v3:Release", "istiod");
  const gw = r.get("kubernetes:helm.sh/v3:Release", "istio-ingressgateway");
  t.true(gw.dependencies.includes(istiod.urn));
  const gateway = r.get("kubernetes:networking.istio.io/v1:Gateway", "foo/httpbin-gateway");
  const httpbin = r.get("kubernetes:apps/v1:Deployment", "foo/httpbin");
  t.true(gateway.dependencies.includes(gw.urn));
  t.true(gateway.dependencies.includes(httpbin.urn));
  t.is(gateway.inputs.spec.servers[0].tls.credentialName, "httpbin-ingress-tls");
});

test("the serving Certificate is issued by the mesh root ClusterIssuer, after it exists", (t) => {
  const r = run.recorder;
  const cert = r.get("kubernetes:cert-manager.io/v1:Certificate", "istio-system/httpbin-ingress");
  const rootIssuer = r.get("kubernetes:cert-manager.io/v1:ClusterIssuer", "istio-mtls-root-ca");
  t.true(cert.dependencies.includes(rootIssuer.urn));
  t.deepEqual(cert.inputs.spec.issuerRef, { group: "cert-manager.io", kind: "ClusterIssuer", name: "istio-mtls-root-ca" });
});

test("end-user auth objects are deployed and predicted: a token is required on /headers", (t) => {
  const r = run.recorder;
  t.truthy(r.get("kubernetes:security.istio.io/v1:RequestAuthentication", "foo/httpbin-jwt"));
  t.truthy(r.get("kubernetes:security.istio.io/v1:AuthorizationPolicy", "foo/httpbin-jwt-require-jwt"));
  const matrix = run.outputs.predictedMatrix as { from: string; to: string; code: number }[];
  // The probe sends no token to /headers: refused with 403 by the DENY policy, over mTLS.
  t.is(matrix.find((c) => c.from === "sleep.bar" && c.to === "httpbin.foo:8000")!.code, 403);
  t.is(matrix.find((c) => c.from === "sleep.bar" && c.to === "httpbin.bar:8000")!.code, 200);
});
