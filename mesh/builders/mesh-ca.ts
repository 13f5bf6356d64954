/**
 * The mesh CA chain in cert-manager, ending in Secret `cacerts` that istiod loads at start
 * (istio-mtls-rules.md §F): self-signed ClusterIssuer → root CA Certificate → CA ClusterIssuer →
 * intermediate CA Certificate `cacerts` in istiod's namespace. cert-manager's Secret layout
 * (tls.crt, tls.key, ca.crt) is one istiod accepts; the private keys are generated in the cluster.
 *
 * The root lives in cert-manager's namespace because a ClusterIssuer of type `ca` reads its
 * Secret from the cluster resource namespace (cert-manager's own by default); a ClusterIssuer
 * also lets the ingress gateway's serving Certificate be signed by the same root.
 */
import type { Certificate, Issuer } from "./kinds";
import { CERT_MANAGER_API_VERSION } from "./kinds";
import { parseGoDuration } from "./duration";
import { checkDnsLabel } from "./meta";

export interface MeshCaInput {
  certManagerNamespace: string;
  /** istiod's namespace, where `cacerts` must be. */
  istioNamespace: string;
  keyAlgorithm: "ECDSA" | "RSA";
  keySize: number;
  rootDuration: string;
  intermediateDuration: string;
  intermediateRenewBefore: string;
}

export const SELF_SIGNED_ISSUER = "istio-mtls-selfsigned";
export const ROOT_CA_NAME = "istio-mtls-root-ca";
/** The Secret istiod reads its signing certificate from. */
export const CACERTS_SECRET = "cacerts";
export const ORGANIZATION = "istio-mtls";

export const KEY_SIZES: Readonly<Record<MeshCaInput["keyAlgorithm"], readonly number[]>> = {
  ECDSA: [256, 384],
  RSA: [2048, 3072, 4096],
};

const KEY = "istio-mtls:ca";

export function validateMeshCa(input: MeshCaInput): void {
  checkDnsLabel("istio-mtls:certManager.namespace", input.certManagerNamespace);
  checkDnsLabel("istio-mtls:istio.namespace", input.istioNamespace);
  const sizes = KEY_SIZES[input.keyAlgorithm];
  if (!sizes) {
    throw new Error(`${KEY}.keyAlgorithm: ${JSON.stringify(input.keyAlgorithm)}; allowed: ${Object.keys(KEY_SIZES).join(", ")}`);
  }
  if (!sizes.includes(input.keySize)) {
    throw new Error(`${KEY}.keySize: ${JSON.stringify(input.keySize)} for ${input.keyAlgorithm}; allowed: ${sizes.join(", ")}`);
  }
  const root = parseGoDuration(`${KEY}.rootDuration`, input.rootDuration);
  const inter = parseGoDuration(`${KEY}.intermediateDuration`, input.intermediateDuration);
  const renew = parseGoDuration(`${KEY}.intermediateRenewBefore`, input.intermediateRenewBefore);
  if (inter > root) {
    throw new Error(
      `${KEY}.intermediateDuration: ${input.intermediateDuration} outlives rootDuration ${input.rootDuration}; ` +
        `allowed: at most the root's lifetime`,
    );
  }
  if (renew >= inter) {
    throw new Error(
      `${KEY}.intermediateRenewBefore: ${input.intermediateRenewBefore} is not shorter than intermediateDuration ` +
        `${input.intermediateDuration}; allowed: a shorter duration`,
    );
  }
}

function clusterIssuer(name: string, spec: Issuer["spec"]): Issuer {
  return { apiVersion: CERT_MANAGER_API_VERSION, kind: "ClusterIssuer", metadata: { name }, spec };
}

function privateKey(input: MeshCaInput) {
  // rotationPolicy set explicitly: its default changed to Always in cert-manager 1.18.
  return { algorithm: input.keyAlgorithm, rotationPolicy: "Always", size: input.keySize };
}

export interface MeshCaObjects {
  selfSignedIssuer: Issuer;
  rootCertificate: Certificate;
  rootIssuer: Issuer;
  /** Writes Secret `cacerts` in istiod's namespace. */
  intermediateCertificate: Certificate;
}

/** A CA Certificate (isCA) whose Secret has the same name as the Certificate. */
function caCertificate(
  input: MeshCaInput,
  at: { name: string; namespace: string; commonName: string; issuer: string; duration: string; renewBefore?: string },
): Certificate {
  return {
    apiVersion: CERT_MANAGER_API_VERSION,
    kind: "Certificate",
    metadata: { name: at.name, namespace: at.namespace },
    spec: {
      commonName: at.commonName,
      duration: at.duration,
      isCA: true,
      issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: at.issuer },
      privateKey: privateKey(input),
      ...(at.renewBefore !== undefined ? { renewBefore: at.renewBefore } : {}),
      secretName: at.name,
      subject: { organizations: [ORGANIZATION] },
      usages: ["cert sign", "crl sign", "digital signature", "key encipherment"],
    },
  };
}

export function buildMeshCa(input: MeshCaInput): MeshCaObjects {
  validateMeshCa(input);
  const rootCertificate = caCertificate(input, {
    name: ROOT_CA_NAME,
    namespace: input.certManagerNamespace,
    commonName: "istio-mtls root CA",
    issuer: SELF_SIGNED_ISSUER,
    duration: input.rootDuration,
  });
  // Written as Secret `cacerts` (tls.crt, tls.key, ca.crt), a layout istiod accepts.
  const intermediateCertificate = caCertificate(input, {
    name: CACERTS_SECRET,
    namespace: input.istioNamespace,
    commonName: "istio-mtls intermediate CA",
    issuer: ROOT_CA_NAME,
    duration: input.intermediateDuration,
    renewBefore: input.intermediateRenewBefore,
  });
  return {
    selfSignedIssuer: clusterIssuer(SELF_SIGNED_ISSUER, { selfSigned: {} }),
    rootCertificate,
    rootIssuer: clusterIssuer(ROOT_CA_NAME, { ca: { secretName: ROOT_CA_NAME } }),
    intermediateCertificate,
  };
}
