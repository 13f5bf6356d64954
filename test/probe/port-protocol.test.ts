/** Which Service ports the probe checks as an application's HTTP port (declared HTTP), at the connection level, or not at all. */
import test from "ava";
import type { KubeObject } from "../../mesh/types";
import { portCheck, portChecks } from "../../probe/port-protocol";

test("declared HTTP as Istio selects it: appProtocol first, else the port name's prefix, any case", (t) => {
  t.is(portCheck({ name: "http", port: 80 }), "http");
  t.is(portCheck({ name: "HTTP-web", port: 80 }), "http");
  t.is(portCheck({ name: "tcp", appProtocol: "http", port: 80 }), "http");
  // Not HTTP/1.1, or not declared: the connection only.
  t.is(portCheck({ name: "http", appProtocol: "grpc", port: 80 }), "connection");
  t.is(portCheck({ name: "http2", port: 80 }), "connection");
  t.is(portCheck({ name: "httpbin", port: 80 }), "connection");
  t.is(portCheck({ name: "tcp-postgres", port: 5432 }), "connection");
  t.is(portCheck({ port: 8000 }), "connection");
  // curl cannot probe UDP or SCTP.
  t.is(portCheck({ name: "http", protocol: "UDP", port: 53 }), "none");
  t.is(portCheck({ name: "sctp", protocol: "SCTP", port: 9 }), "none");
});

test("portChecks gives every Service port's check, by Cell.to", (t) => {
  const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "db", namespace: "shop" }, spec: { ports: [{ name: "http", port: 8080 }, { name: "tcp", port: 5432 }, { port: 53, protocol: "UDP" }] } } as KubeObject;
  t.deepEqual([...portChecks([svc])], [["db.shop:8080", "http"], ["db.shop:5432", "connection"], ["db.shop:53", "none"]]);
});
