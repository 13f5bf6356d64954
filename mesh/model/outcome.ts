/**
 * The memo layer over the model's decisions: for each (client, Service port) pair it asks
 * upstreamTls, clientSends, serverMode, transportVerdict, httpDecision, endpointOutcome,
 * noHealthyUpstream and endpointsDiffer only what it has not asked before: per Service port and
 * client namespace, per endpoint, per peer key. Equal results are interned, so 4 million pairs
 * share a few thousand outcomes and reason strings instead of building one each.
 */
import type { Cell } from "../prediction";
import type { ServerHttpPolicies } from "./authorization";
import { clientSends, NO_SIDECAR_SEND, type Send } from "./client-sends";
import { endpointOutcome, type Outcome } from "./endpoint-outcome";
import { httpDecision, type HttpRequest, type HttpResult } from "./http-decision";
import type { MeshModel } from "./index";
import { endpointsDiffer, noHealthyUpstream } from "./load-balancing";
import { serverMode, type ServerMode } from "./server-mode";
import { transportVerdict } from "./transport-verdict";
import { upstreamTls } from "./upstream-tls";
import type { Endpoint, ServicePort, Workload } from "./workloads";

interface PortMemo {
  noSidecar: Outcome | undefined;
  /** Peer-free ports: namespace → outcome. */
  byNamespace: Map<string, Outcome> | undefined;
  /** Single-endpoint ports whose policies read the peer: namespace → peer key → outcome. */
  byPeer: { policies: ServerHttpPolicies; byNamespace: Map<string, Map<number | string, Outcome>> } | undefined;
}

interface EndpointMemo {
  e: Endpoint;
  server: ServerMode;
  policies: ServerHttpPolicies | undefined;
  /** HTTP result shared by every client when the policies ignore the peer. */
  httpShared: HttpResult | undefined;
  /** Per peer key (ServerHttpPolicies.peerKey), each pointing at an interned result. */
  httpByPeer: Map<number | string, HttpResult>;
  /** Equal results share one object, so outcomes can be keyed by identity. */
  httpInterned: Map<string, HttpResult>;
  /**
   * Per way of sending: the outcome when the transport alone decides, else (the server sidecar
   * took the connection) the outcomes keyed by the interned HTTP result.
   */
  bySend: Map<Send, Outcome | Map<HttpResult, Outcome>>;
}

export class OutcomeEngine {
  private readonly endpoints = new Map<Endpoint, EndpointMemo>();
  /** Per Service port, then client namespace: what a sidecar client sends to each endpoint. */
  private readonly sendsByPort = new Map<ServicePort, Map<string, Send[]>>();
  private readonly noEndpoint = new Map<ServicePort, [Outcome, Outcome]>();
  /**
   * Per Service port: a client without sidecar always sends plaintext, so one outcome serves them
   * all. For sidecar clients the outcome depends on their namespace (DestinationRule) and, when
   * the server's policies read the peer, on the peer key; a port with one endpoint memoizes both,
   * so most pairs cost a few map lookups.
   */
  private readonly byPort = new Map<ServicePort, PortMemo>();

  constructor(
    private readonly model: MeshModel,
    private readonly request: HttpRequest,
  ) {}

  private endpoint(e: Endpoint): EndpointMemo {
    let m = this.endpoints.get(e);
    if (!m) {
      const w = e.workload;
      m = {
        e,
        server: serverMode(e, this.model.peerAuthn),
        policies: w.sidecar ? this.model.http.forWorkload(w) : undefined,
        httpShared: undefined,
        httpByPeer: new Map(),
        httpInterned: new Map(),
        bySend: new Map(),
      };
      this.endpoints.set(e, m);
    }
    return m;
  }

  private intern(m: EndpointMemo, r: HttpResult): HttpResult {
    const k = `${r.code}|${r.why}`;
    const hit = m.httpInterned.get(k);
    if (hit) return hit;
    m.httpInterned.set(k, r);
    return r;
  }

  private httpResult(m: EndpointMemo, peer: Workload | undefined): HttpResult {
    const policies = m.policies!;
    if (!policies.readsPeer) return (m.httpShared ??= this.intern(m, httpDecision(policies, this.request, undefined, m.e.targetPort)));
    // A Workload carries principal, namespace and serviceAccount: it is its own Peer.
    const key = policies.peerKey(peer);
    let r = m.httpByPeer.get(key);
    if (!r) {
      r = this.intern(m, httpDecision(policies, this.request, peer, m.e.targetPort));
      m.httpByPeer.set(key, r);
    }
    return r;
  }

  private endpointOutcome(client: Workload, send: Send, e: Endpoint): Outcome {
    const m = this.endpoint(e);
    let s = m.bySend.get(send);
    if (!s) {
      const verdict = transportVerdict(send, m.server);
      s = verdict.kind === "sidecar" ? new Map() : endpointOutcome(send, m.server, verdict, undefined);
      m.bySend.set(send, s);
    }
    if (!(s instanceof Map)) return s;
    // The server sidecar took the connection, over mTLS exactly when the client sent mTLS: only then is there a peer.
    const http = this.httpResult(m, send.mtls ? client : undefined);
    let o = s.get(http);
    if (!o) s.set(http, (o = endpointOutcome(send, m.server, transportVerdict(send, m.server), http)));
    return o;
  }

  /** Per endpoint of the Service port, what a sidecar client in `clientNamespace` sends. */
  private sends(clientNamespace: string, sp: ServicePort): Send[] {
    let byNs = this.sendsByPort.get(sp);
    if (!byNs) this.sendsByPort.set(sp, (byNs = new Map()));
    let s = byNs.get(clientNamespace);
    if (!s) {
      const rule = this.model.destinationRules.lookup(clientNamespace, sp.hostname, sp.namespace)?.applied;
      const upstream = upstreamTls(rule, sp, this.model.mesh.enableAutoMtls, this.model.peerAuthn);
      s = sp.endpoints.map((e) => clientSends(upstream, e, this.model.peerAuthn));
      byNs.set(clientNamespace, s);
    }
    return s;
  }

  private portMemo(sp: ServicePort): PortMemo {
    let m = this.byPort.get(sp);
    if (!m) {
      const readsPeer = sp.endpoints.map((e) => (e.workload.sidecar ? this.model.http.forWorkload(e.workload) : undefined)).filter((h) => h?.readsPeer);
      m = { noSidecar: undefined, byNamespace: undefined, byPeer: undefined };
      if (readsPeer.length === 0) m.byNamespace = new Map();
      else if (sp.endpoints.length === 1) m.byPeer = { policies: readsPeer[0]!, byNamespace: new Map() };
      this.byPort.set(sp, m);
    }
    return m;
  }

  outcome(client: Workload, sp: ServicePort, from: string): Cell {
    const memo = this.portMemo(sp);
    let o: Outcome | undefined;
    if (!client.sidecar) {
      o = memo.noSidecar ??= this.portOutcome(client, sp);
    } else if (memo.byNamespace) {
      o = memo.byNamespace.get(client.namespace);
      if (!o) memo.byNamespace.set(client.namespace, (o = this.portOutcome(client, sp)));
    } else if (memo.byPeer) {
      let byKey = memo.byPeer.byNamespace.get(client.namespace);
      if (!byKey) memo.byPeer.byNamespace.set(client.namespace, (byKey = new Map()));
      const key = memo.byPeer.policies.peerKey(client);
      o = byKey.get(key);
      if (!o) byKey.set(key, (o = this.portOutcome(client, sp)));
    } else {
      o = this.portOutcome(client, sp);
    }
    const server = sp.endpoints[0]?.workload;
    return {
      from,
      to: sp.id,
      request: this.request,
      code: o.code,
      mtls: o.mtls,
      reason: o.reason,
      failure: o.failure,
      clientIdentity: o.mtls ? client.spiffe : undefined,
      serverIdentity: server?.sidecar ? server.spiffe : undefined,
      client: client.probeClient,
      target: sp.probeTarget,
    };
  }

  private portOutcome(client: Workload, sp: ServicePort): Outcome {
    if (sp.endpoints.length === 0) {
      let pair = this.noEndpoint.get(sp);
      if (!pair) this.noEndpoint.set(sp, (pair = [noHealthyUpstream(sp, true), noHealthyUpstream(sp, false)]));
      return client.sidecar ? pair[0] : pair[1];
    }
    const sends = client.sidecar ? this.sends(client.namespace, sp) : undefined;
    const first = this.endpointOutcome(client, sends ? sends[0]! : NO_SIDECAR_SEND, sp.endpoints[0]!);
    // Later endpoints are asked only until one differs from the first.
    for (let i = 1; i < sp.endpoints.length; i++) {
      const other = this.endpointOutcome(client, sends ? sends[i]! : NO_SIDECAR_SEND, sp.endpoints[i]!);
      const differ = endpointsDiffer(first, sp.endpoints[0]!, other, sp.endpoints[i]!);
      if (differ) return differ;
    }
    return first;
  }
}
