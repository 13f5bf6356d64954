/** Real self-signed root certificates for trust-check tests, made by openssl at test time. */
import { execFileSync } from "node:child_process";

/** A fresh self-signed P-256 CA certificate (PEM) with subject CN=`name`; the key is discarded. */
export function selfSignedRoot(name: string): string {
  return execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "/dev/null", "-subj", `/O=istio-mtls test/CN=${name}`, "-days", "1"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
}
