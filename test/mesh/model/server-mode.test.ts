/** serverMode: what a server endpoint's port accepts (rules §A 5, §B 6). */
import test from "ava";
import { serverMode } from "../../../mesh/model/server-mode";
import { endpoint, modes, workload } from "./world";

test("a sidecar enforces its PeerAuthentication mode at the container port", (t) => {
  const view = modes("STRICT");
  t.deepEqual(serverMode(endpoint(workload("httpbin.foo"), 8080), view), { mode: "STRICT", why: "STRICT at port 8080 (PeerAuthentication test/default)" });
  t.deepEqual(view.asked, ["httpbin.foo:8080"]);
  t.is(serverMode(endpoint(workload("httpbin.foo")), modes("DISABLE")).mode, "DISABLE");
});

test("wrong world: a workload without sidecar enforces nothing, even where PeerAuthentication says STRICT", (t) => {
  const view = modes("STRICT");
  t.deepEqual(serverMode(endpoint(workload("httpbin.legacy", false)), view), {
    mode: "NONE",
    why: "httpbin.legacy has no sidecar (no injection label; nothing enforced)",
  });
  t.deepEqual(view.asked, [], "no PeerAuthentication is read for it");
});
