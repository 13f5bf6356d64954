import test from "ava";
import { planStack, type StackSettings } from "../../mesh/plan";
import { serviceExceptions } from "../../mesh/mtls-exceptions";
import { stackSettings } from "../helpers/settings";

const EXC = { reason: "migrating", expires: "2027-01-15" };
const base = stackSettings({
  namespaces: [
    { name: "foo", injection: true },
    { name: "legacy", injection: false, exception: { reason: "no sidecars yet", expires: "2027-02-01" } },
  ],
  demo: { enabled: true },
});
const exceptionsOf = (mtls: StackSettings["mtls"]) =>
  serviceExceptions(planStack({ ...base, mtls }).model).map((e) => `${e.namespace}/${e.service}:${e.port} ${e.object} ${e.expires}`);

test("the exception on the deciding PeerAuthentication covers the Service port; a sidecar-less one, its Namespace's", (t) => {
  t.deepEqual(exceptionsOf({ mesh: { mode: "PERMISSIVE", exception: EXC }, namespaces: [], workloads: [] }), [
    "foo/httpbin:8000 PeerAuthentication istio-system/default 2027-01-15",
    "legacy/httpbin:8000 Namespace legacy 2027-02-01",
  ]);
});

test("the most specific policy decides: a workload policy without exception hides the namespace's", (t) => {
  const mtls = {
    namespaces: [{ namespace: "foo", mode: "PERMISSIVE" as const, exception: EXC }],
    workloads: [{ namespace: "foo", name: "httpbin", selector: { app: "httpbin" }, mode: "PERMISSIVE" as const }],
  };
  t.deepEqual(exceptionsOf(mtls), ["legacy/httpbin:8000 Namespace legacy 2027-02-01"]);
  const portLevel = { namespaces: [], workloads: [{ namespace: "foo", name: "httpbin", selector: { app: "httpbin" }, mode: "STRICT" as const, portLevelMtls: { 8080: "PERMISSIVE" as const }, exception: EXC }] };
  t.deepEqual(exceptionsOf(portLevel), ["foo/httpbin:8000 PeerAuthentication foo/httpbin 2027-01-15", "legacy/httpbin:8000 Namespace legacy 2027-02-01"]);
});

test("no policy, no exception: Istio's default PERMISSIVE is covered by nothing", (t) => {
  t.deepEqual(exceptionsOf({ namespaces: [], workloads: [] }), ["legacy/httpbin:8000 Namespace legacy 2027-02-01"]);
});
