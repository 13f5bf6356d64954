import test from "ava";
import { runStackProgram } from "../helpers/program";

// A reviewed exception on a namespace without sidecars reaches the deployed Namespace as the
// annotations the policy pack checks (production-sidecar-exceptions).
test("namespaces[].exception is written on the Namespace the stack deploys", async (t) => {
  const run = await runStackProgram("dev", {
    overrides: {
      "istio-mtls:namespaces": [
        { name: "foo", injection: true },
        { name: "bar", injection: true },
        { name: "legacy", injection: false, exception: { reason: "legacy clients move to the mesh in Q1", expires: "2027-03-31" } },
      ],
    },
  });
  const legacy = run.recorder.get("kubernetes:core/v1:Namespace", "legacy").inputs as { metadata: { annotations?: Record<string, string> } };
  t.deepEqual(legacy.metadata.annotations, {
    "istio-mtls.dev/exception-reason": "legacy clients move to the mesh in Q1",
    "istio-mtls.dev/exception-expires": "2027-03-31",
  });
  const foo = run.recorder.get("kubernetes:core/v1:Namespace", "foo").inputs as { metadata: { annotations?: Record<string, string> } };
  t.is(foo.metadata.annotations, undefined);
});
