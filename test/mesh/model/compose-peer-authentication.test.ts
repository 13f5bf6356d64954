import test from "ava";
import { composePeerAuthentication, DEFAULT_MODE, levelMode, type PeerAuthnPolicy } from "../../../mesh/model/compose-peer-authentication";

const policy = (ref: string, mode: PeerAuthnPolicy["mode"], portLevel: [number, PeerAuthnPolicy["mode"]][] = []): PeerAuthnPolicy => ({
  ref,
  namespace: ref.split(" ")[1].split("/")[0],
  name: ref.split("/")[1],
  mode,
  selector: { app: "httpbin" },
  portLevel: new Map(portLevel),
  created: 0,
  position: 0,
});

test("each level overrides the one above; UNSET and a missing policy inherit", (t) => {
  const mesh = levelMode(policy("PeerAuthentication istio-system/default", "STRICT"), DEFAULT_MODE);
  t.deepEqual(mesh, { mode: "STRICT", source: "PeerAuthentication istio-system/default" });
  t.is(levelMode(undefined, mesh), mesh);
  t.is(levelMode(policy("PeerAuthentication foo/default", "UNSET"), mesh), mesh);
  t.is(levelMode(undefined, DEFAULT_MODE).mode, "PERMISSIVE", "no policy anywhere: Istio's default");
});

test("port-level modes override the workload's at their container port; an UNSET port inherits the workload's mode, not the namespace's", (t) => {
  const ns = { mode: "STRICT" as const, source: "PeerAuthentication foo/default" };
  const r = composePeerAuthentication(ns, policy("PeerAuthentication foo/httpbin", "DISABLE", [[8080, "PERMISSIVE"], [9090, "UNSET"]]));
  t.deepEqual(r.workloadMode, { mode: "DISABLE", source: "PeerAuthentication foo/httpbin" });
  t.deepEqual(r.ports.get(8080), { mode: "PERMISSIVE", source: "portLevelMtls 8080 of PeerAuthentication foo/httpbin" });
  t.deepEqual(r.ports.get(9090), r.workloadMode);
  // The world is wrong if a workload without policy escaped its namespace's STRICT.
  const none = composePeerAuthentication(ns, undefined);
  t.is(none.workloadMode, ns);
  t.is(none.ports.size, 0);
});
