/**
 * One (client, Service port) outcome: transport (what the client sends against what the server
 * port accepts, rules §B/§D), then the server sidecar's HTTP layer. Reason strings are built from
 * shared parts and interned per endpoint, so 4 million pairs do not build 4 million strings.
 */
import type { Cell } from "../prediction";
import type { HttpRequest, HttpResult, ServerHttpPolicy } from "./authorization";
import type { MeshModel } from "./index";
import type { Send } from "./client-tls";
import type { Endpoint, ServicePort, Workload } from "./workloads";

export const PLAINTEXT_CLIENT = "plaintext client (no sidecar)";

interface Verdict {
  code: number;
  mtls: boolean;
  reason: string;
  failure: Cell["failure"];
}

/** What a client without sidecar sends: whatever the app sends, plaintext for `curl http://`. */
const PLAINTEXT_SEND: Send = Object.freeze({ mtls: false, userTls: undefined, why: "plaintext", clientPart: PLAINTEXT_CLIENT });

/** Verdict keys that do not come from the HTTP layer (constant strings: hashed once). */
const MTLS_TO_PLAINTEXT_APP = "mTLS reaches a plaintext app";
const MTLS_TO_DISABLE = "mTLS to a DISABLE port fails";
const REFUSED = "refused";
const PASSED = "passed";

interface PortMemo {
  plain: Verdict | undefined;
  /** Peer-free ports: namespace → verdict. */
  byNamespace: Map<string, Verdict> | undefined;
  /** Single-endpoint ports whose policies read the peer: namespace → peer key → verdict. */
  byPeer: { http: ServerHttpPolicy; byNamespace: Map<string, Map<number | string, Verdict>> } | undefined;
}

/** Per-endpoint state computed once: server mode text, HTTP policy, interned results and verdicts. */
interface EndpointState {
  e: Endpoint;
  mode: "STRICT" | "PERMISSIVE" | "DISABLE" | "NONE";
  /** "STRICT at port 8080 (PeerAuthentication foo/default)" or "httpbin.legacy has no sidecar (…; nothing enforced)". */
  server: string;
  http: ServerHttpPolicy | undefined;
  /** HTTP result shared by every client when the policies ignore the peer. */
  httpShared: HttpResult | undefined;
  /** Per peer key (ServerHttpPolicy.peerKey), each pointing at an interned result. */
  httpByPeer: Map<number | string, HttpResult>;
  /** Equal results share one object, so verdicts can be keyed by identity. */
  httpInterned: Map<string, HttpResult>;
  /** Keyed by what the client sends, then by the HTTP result or a constant key. */
  verdicts: Map<Send, Map<HttpResult | string, Verdict>>;
}

export class OutcomeEngine {
  private readonly states = new Map<Endpoint, EndpointState>();
  private readonly noEndpoint = new Map<ServicePort, [Verdict, Verdict]>();
  /**
   * Per Service port: a client without sidecar always sends plaintext, so one verdict serves them
   * all. For sidecar clients the verdict depends on their namespace (DestinationRule) and, when
   * the server's policies read the peer, on the peer key; a port with one endpoint memoizes both,
   * so most pairs cost a few map lookups.
   */
  private readonly byPort = new Map<ServicePort, PortMemo>();

  constructor(
    private readonly model: MeshModel,
    private readonly request: HttpRequest,
  ) {}

  private state(e: Endpoint): EndpointState {
    let s = this.states.get(e);
    if (s) return s;
    const w = e.workload;
    const base = { e, httpShared: undefined, httpByPeer: new Map(), httpInterned: new Map(), verdicts: new Map() };
    if (!w.sidecar) {
      s = { ...base, mode: "NONE", server: `${w.id} has no sidecar (${w.sidecarWhy}; nothing enforced)`, http: undefined };
    } else {
      const m = this.model.peerAuthn.modeAt(w, e.targetPort);
      s = { ...base, mode: m.mode, server: `${m.mode} at port ${e.targetPort} (${m.source})`, http: this.model.http.forWorkload(w) };
    }
    this.states.set(e, s);
    return s;
  }

  private intern(s: EndpointState, r: HttpResult): HttpResult {
    const k = `${r.code}|${r.why}`;
    const hit = s.httpInterned.get(k);
    if (hit) return hit;
    s.httpInterned.set(k, r);
    return r;
  }

  private httpResult(s: EndpointState, peer: Workload | undefined): HttpResult {
    const http = s.http!;
    if (!http.readsPeer) return (s.httpShared ??= this.intern(s, http.evaluate(this.request, undefined, s.e.targetPort)));
    // A Workload carries principal, namespace and serviceAccount: it is its own Peer.
    const key = http.peerKey(peer);
    let r = s.httpByPeer.get(key);
    if (!r) {
      r = this.intern(s, http.evaluate(this.request, peer, s.e.targetPort));
      s.httpByPeer.set(key, r);
    }
    return r;
  }

  private verdict(s: EndpointState, send: Send, key: HttpResult | string, code: number, mtls: boolean, extra: string, failure?: "reset"): Verdict {
    let bySend = s.verdicts.get(send);
    if (!bySend) s.verdicts.set(send, (bySend = new Map()));
    let v = bySend.get(key);
    if (!v) {
      v = { code, mtls, reason: `${send.clientPart} → ${s.server}${extra ? `; ${extra}` : ""}`, failure };
      bySend.set(key, v);
    }
    return v;
  }

  private endpointVerdict(client: Workload, send: Send, e: Endpoint): Verdict {
    const s = this.state(e);
    const sidecarClient = send !== PLAINTEXT_SEND;
    if (s.mode === "NONE") {
      if (send.mtls) return this.verdict(s, send, MTLS_TO_PLAINTEXT_APP, 503, false, MTLS_TO_PLAINTEXT_APP, "reset");
      if (send.userTls) return this.verdict(s, send, REFUSED, 503, false, `${send.userTls} TLS reaches a plaintext app`, "reset");
      return this.verdict(s, send, PASSED, 200, false, "");
    }
    if (send.userTls) return this.verdict(s, send, REFUSED, 503, false, `${send.userTls} client TLS is not modelled; assumed to fail`, "reset");
    if (send.mtls && s.mode === "DISABLE") return this.verdict(s, send, MTLS_TO_DISABLE, 503, false, MTLS_TO_DISABLE, "reset");
    if (!send.mtls && s.mode === "STRICT") {
      // A client sidecar turns the reset into 503; a bare client sees curl's 000 (exit 56).
      return this.verdict(s, send, REFUSED, sidecarClient ? 503 : 0, false, "", "reset");
    }
    const http = this.httpResult(s, send.mtls ? client : undefined);
    return this.verdict(s, send, http, http.code, send.mtls, http.why);
  }

  private portMemo(sp: ServicePort): PortMemo {
    let m = this.byPort.get(sp);
    if (!m) {
      const readsPeer = sp.endpoints.map((e) => (e.workload.sidecar ? this.model.http.forWorkload(e.workload) : undefined)).filter((h) => h?.readsPeer);
      m = { plain: undefined, byNamespace: undefined, byPeer: undefined };
      if (readsPeer.length === 0) m.byNamespace = new Map();
      else if (sp.endpoints.length === 1) m.byPeer = { http: readsPeer[0]!, byNamespace: new Map() };
      this.byPort.set(sp, m);
    }
    return m;
  }

  outcome(client: Workload, sp: ServicePort, from: string): Cell {
    const memo = this.portMemo(sp);
    let v: Verdict | undefined;
    if (!client.sidecar) {
      v = memo.plain ??= this.verdictFor(client, sp);
    } else if (memo.byNamespace) {
      v = memo.byNamespace.get(client.namespace);
      if (!v) memo.byNamespace.set(client.namespace, (v = this.verdictFor(client, sp)));
    } else if (memo.byPeer) {
      let byKey = memo.byPeer.byNamespace.get(client.namespace);
      if (!byKey) memo.byPeer.byNamespace.set(client.namespace, (byKey = new Map()));
      const key = memo.byPeer.http.peerKey(client);
      v = byKey.get(key);
      if (!v) byKey.set(key, (v = this.verdictFor(client, sp)));
    } else {
      v = this.verdictFor(client, sp);
    }
    const server = sp.endpoints[0]?.workload;
    return {
      from,
      to: sp.id,
      request: this.request,
      code: v.code,
      mtls: v.mtls,
      reason: v.reason,
      failure: v.failure,
      clientIdentity: v.mtls ? client.spiffe : undefined,
      serverIdentity: server?.sidecar ? server.spiffe : undefined,
      client: client.ref,
      target: sp.ref,
    };
  }

  private verdictFor(client: Workload, sp: ServicePort): Verdict {
    let v: Verdict;
    if (sp.endpoints.length === 0) {
      let pair = this.noEndpoint.get(sp);
      if (!pair) {
        const why = `Service ${sp.namespace}/${sp.service} selects no running workload with port ${sp.targetPortSpec}`;
        pair = [
          { code: 503, mtls: false, reason: `sidecar client → ${why} (no healthy upstream)`, failure: "no-endpoint" },
          { code: 0, mtls: false, reason: `${PLAINTEXT_CLIENT} → ${why} (connection refused)`, failure: "no-endpoint" },
        ];
        this.noEndpoint.set(sp, pair);
      }
      v = client.sidecar ? pair[0] : pair[1];
    } else {
      const sends = client.sidecar ? this.model.destinationRules.sends(client.namespace, sp) : undefined;
      v = this.endpointVerdict(client, sends ? sends[0]! : PLAINTEXT_SEND, sp.endpoints[0]!);
      for (let i = 1; i < sp.endpoints.length; i++) {
        const other = this.endpointVerdict(client, sends ? sends[i]! : PLAINTEXT_SEND, sp.endpoints[i]!);
        if (other.code !== v.code || other.mtls !== v.mtls) {
          // Load balancing makes the cell flaky; report the failing endpoint and say so.
          const bad = v.code !== 200 ? v : other;
          const badEp = v.code !== 200 ? sp.endpoints[0]! : sp.endpoints[i]!;
          v = { code: bad.code, mtls: bad.mtls, reason: `endpoints differ, ${badEp.workload.id}: ${bad.reason}`, failure: bad.failure };
          break;
        }
      }
    }
    return v;
  }
}
