/**
 * What a client observes from one endpoint: the transport verdict, then, when the server sidecar
 * takes the connection, its HTTP decision (rules §D).
 */
import type { Cell } from "../prediction";
import type { Send } from "./client-sends";
import type { HttpResult } from "./http-decision";
import type { ServerMode } from "./server-mode";
import type { TransportVerdict } from "./transport-verdict";

/** The part of a Cell that does not name the pair, so that many pairs can share it. */
export interface Outcome {
  code: number;
  mtls: boolean;
  reason: string;
  failure: Cell["failure"];
}

/** `http`: the server sidecar's HTTP decision, needed when the verdict is "sidecar". */
export function endpointOutcome(send: Send, server: ServerMode, verdict: TransportVerdict, http: HttpResult | undefined): Outcome {
  const sides = `${send.clientPart} → ${server.why}`;
  switch (verdict.kind) {
    case "reset":
      return { code: verdict.code, mtls: false, reason: withWhy(sides, verdict.why), failure: "reset" };
    case "app":
      return { code: 200, mtls: false, reason: sides, failure: undefined };
    case "sidecar":
      if (!http) throw new Error("endpointOutcome: the server sidecar took the connection but no HTTP decision was given");
      return { code: http.code, mtls: verdict.mtls, reason: withWhy(sides, http.why), failure: undefined };
  }
}

function withWhy(sides: string, why: string): string {
  return why ? `${sides}; ${why}` : sides;
}
