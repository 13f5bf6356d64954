/**
 * One (client, Service port) outcome: transport (what the client sends against what the server
 * port accepts, rules §B/§D), then the server sidecar's HTTP layer. Reason strings are built from
 * shared parts and interned per endpoint, so 4 million pairs do not build 4 million strings.
 */
import type { ProbeOutcome } from "../prediction";
import type { HttpRequest, HttpResult, Peer, ServerHttpPolicy } from "./authorization";
import type { MeshModel } from "./index";
import type { Send } from "./client-tls";
import type { Endpoint, ServicePort, Workload } from "./workloads";

export const PLAINTEXT_CLIENT = "plaintext client (no sidecar)";

interface Verdict {
  code: number;
  mtls: boolean;
  reason: string;
}

/** Per-endpoint state computed once: server mode text, HTTP policy, interned reasons and verdicts. */
interface EndpointState {
  e: Endpoint;
  mode: "STRICT" | "PERMISSIVE" | "DISABLE" | "NONE";
  /** "STRICT at port 8080 (PeerAuthentication foo/default)" or "httpbin.legacy has no sidecar (nothing enforced)". */
  server: string;
  http: ServerHttpPolicy | undefined;
  /** HTTP results: one for all clients when the policy ignores the peer, else per principal. */
  httpShared: HttpResult | undefined;
  httpByPeer: Map<string, HttpResult>;
  verdicts: Map<string, Verdict>;
}

export class OutcomeEngine {
  private readonly states = new Map<Endpoint, EndpointState>();
  private readonly noEndpoint = new Map<ServicePort, [Verdict, Verdict]>();

  constructor(
    private readonly model: MeshModel,
    private readonly request: HttpRequest,
  ) {}

  private state(e: Endpoint): EndpointState {
    let s = this.states.get(e);
    if (s) return s;
    const w = e.workload;
    if (!w.sidecar) {
      s = { e, mode: "NONE", server: `${w.id} has no sidecar (${w.sidecarWhy}; nothing enforced)`, http: undefined, httpShared: undefined, httpByPeer: new Map(), verdicts: new Map() };
    } else {
      const m = this.model.peerAuthn.modeAt(w, e.targetPort);
      s = { e, mode: m.mode, server: `${m.mode} at port ${e.targetPort} (${m.source})`, http: this.model.http.forWorkload(w), httpShared: undefined, httpByPeer: new Map(), verdicts: new Map() };
    }
    this.states.set(e, s);
    return s;
  }

  private httpResult(s: EndpointState, peer: Workload | undefined): HttpResult {
    const http = s.http!;
    if (!http.readsPeer) return (s.httpShared ??= http.evaluate(this.request, undefined, s.e.targetPort));
    const key = peer ? peer.principal : "";
    let r = s.httpByPeer.get(key);
    if (!r) {
      const p: Peer | undefined = peer ? { principal: peer.principal, namespace: peer.namespace, serviceAccount: peer.serviceAccount } : undefined;
      r = http.evaluate(this.request, p, s.e.targetPort);
      s.httpByPeer.set(key, r);
    }
    return r;
  }

  /** Interned per endpoint by (client part, http part). */
  private verdict(s: EndpointState, clientPart: string, code: number, mtls: boolean, extra: string): Verdict {
    const key = extra ? `${code}|${clientPart}|${extra}` : clientPart;
    let v = s.verdicts.get(key);
    if (!v) {
      const reason = `${clientPart} → ${s.server}${extra ? `; ${extra}` : ""}`;
      v = { code, mtls, reason };
      s.verdicts.set(key, v);
    }
    return v;
  }

  private endpointVerdict(client: Workload, send: Send | undefined, e: Endpoint): Verdict {
    const s = this.state(e);
    const clientPart = send ? `sidecar client, ${send.why}` : PLAINTEXT_CLIENT;
    if (s.mode === "NONE") {
      if (send && send.mtls) return this.verdict(s, clientPart, 503, false, "mTLS reaches a plaintext app");
      if (send && send.userTls) return this.verdict(s, clientPart, 503, false, `${send.userTls} TLS reaches a plaintext app`);
      return this.verdict(s, clientPart, 200, false, "");
    }
    if (send?.userTls) return this.verdict(s, clientPart, 503, false, `${send.userTls} client TLS is not modelled; assumed to fail`);
    const mtls = send ? send.mtls : false;
    if (mtls && s.mode === "DISABLE") return this.verdict(s, clientPart, 503, false, "mTLS to a DISABLE port fails");
    if (!mtls && s.mode === "STRICT") {
      // A client sidecar turns the reset into 503; a bare client sees curl's 000 (exit 56).
      return send ? this.verdict(s, clientPart, 503, false, "") : this.verdict(s, clientPart, 0, false, "");
    }
    const http = this.httpResult(s, mtls ? client : undefined);
    return this.verdict(s, clientPart, http.code, mtls, http.why);
  }

  outcome(client: Workload, sp: ServicePort, from: string): ProbeOutcome {
    const server = sp.endpoints[0]?.workload;
    let v: Verdict;
    if (sp.endpoints.length === 0) {
      let pair = this.noEndpoint.get(sp);
      if (!pair) {
        const why = `Service ${sp.namespace}/${sp.service} selects no running workload with port ${sp.targetPortSpec}`;
        pair = [
          { code: 503, mtls: false, reason: `sidecar client → ${why} (no healthy upstream)` },
          { code: 0, mtls: false, reason: `${PLAINTEXT_CLIENT} → ${why} (connection refused)` },
        ];
        this.noEndpoint.set(sp, pair);
      }
      v = client.sidecar ? pair[0] : pair[1];
    } else {
      const sends = client.sidecar ? this.model.destinationRules.sends(client.namespace, sp) : undefined;
      v = this.endpointVerdict(client, sends?.[0], sp.endpoints[0]!);
      for (let i = 1; i < sp.endpoints.length; i++) {
        const other = this.endpointVerdict(client, sends?.[i], sp.endpoints[i]!);
        if (other.code !== v.code || other.mtls !== v.mtls) {
          // Load balancing makes the cell flaky; report the failing endpoint and say so.
          const bad = v.code !== 200 ? v : other;
          const badEp = v.code !== 200 ? sp.endpoints[0]! : sp.endpoints[i]!;
          v = { code: bad.code, mtls: bad.mtls, reason: `endpoints differ, ${badEp.workload.id}: ${bad.reason}` };
          break;
        }
      }
    }
    return {
      from,
      to: sp.id,
      code: v.code,
      mtls: v.mtls,
      reason: v.reason,
      clientIdentity: v.mtls ? client.spiffe : undefined,
      serverIdentity: server?.sidecar ? server.spiffe : undefined,
      client: client.ref,
      target: sp.ref,
    };
  }
}
