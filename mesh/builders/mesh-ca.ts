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
import { objectRef } from "../model/errors";
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

/** Key sizes cert-manager issues for each algorithm; the first is the default. */
export const KEY_SIZES: Readonly<Record<MeshCaInput["keyAlgorithm"], readonly number[]>> = {
  ECDSA: [256, 384],
  RSA: [2048, 3072, 4096],
};

const DURATION_ALLOWED = 'a positive Go duration such as "87600h" or "720h30m"';

function duration(at: string, value: string): number {
  const ms = parseGoDuration(value);
  if (ms === undefined) throw new Error(`${at}: ${JSON.stringify(value)} is not a duration; allowed: ${DURATION_ALLOWED}`);
  return ms;
}

/** Throws on input cert-manager would refuse, naming the Certificate and its field. */
export function validateMeshCa(input: MeshCaInput): void {
  const root = objectRef("Certificate", input.certManagerNamespace, ROOT_CA_NAME);
  const intermediate = objectRef("Certificate", input.istioNamespace, CACERTS_SECRET);
  checkDnsLabel(`${root}: metadata.namespace`, input.certManagerNamespace);
  checkDnsLabel(`${intermediate}: metadata.namespace`, input.istioNamespace);
  const sizes = KEY_SIZES[input.keyAlgorithm];
  if (!sizes) {
    throw new Error(`${root}: spec.privateKey.algorithm: ${JSON.stringify(input.keyAlgorithm)}; allowed: ${Object.keys(KEY_SIZES).join(", ")}`);
  }
  if (!sizes.includes(input.keySize)) {
    throw new Error(`${root}: spec.privateKey.size: ${JSON.stringify(input.keySize)} for ${input.keyAlgorithm}; allowed: ${sizes.join(", ")}`);
  }
  const rootMs = duration(`${root}: spec.duration`, input.rootDuration);
  const interMs = duration(`${intermediate}: spec.duration`, input.intermediateDuration);
  const renewMs = duration(`${intermediate}: spec.renewBefore`, input.intermediateRenewBefore);
  if (interMs > rootMs) {
    throw new Error(
      `${intermediate}: spec.duration: ${input.intermediateDuration} outlives the root's ${input.rootDuration} (${root}); ` +
        `allowed: at most the root's lifetime`,
    );
  }
  if (renewMs >= interMs) {
    throw new Error(
      `${intermediate}: spec.renewBefore: ${input.intermediateRenewBefore} is not shorter than spec.duration ` +
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
