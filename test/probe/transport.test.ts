import test from "ava";
import { exitCodeFromStatus, labelSelector } from "../../probe/transport";

// The real transport needs a cluster; only its pure pieces are tested here.
test("exec exit status from the V1Status the exec stream ends with", (t) => {
  t.is(exitCodeFromStatus({ status: "Success" }), 0);
  t.is(exitCodeFromStatus({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "3" }] } }), 3);
  t.throws(() => exitCodeFromStatus({ status: "Failure", reason: "InternalError", message: 'container "sleep" not found' }), {
    message: 'exec failed: InternalError: container "sleep" not found',
  });
  t.throws(() => exitCodeFromStatus({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [] } }), { message: /exec failed: NonZeroExitCode/ });
});

test("label selector is sorted and comma-joined", (t) => {
  t.is(labelSelector({ version: "v1", app: "sleep" }), "app=sleep,version=v1");
});
