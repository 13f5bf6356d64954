import test from "ava";
import { buildIngress, gatewayChartValues } from "../../../mesh/builders";

test("plain HTTP ingress: Gateway port 80 and VirtualService for /headers only", (t) => {
  const o = buildIngress({ namespace: "foo", gatewayNamespace: "istio-system", host: "*", tls: false });
  t.deepEqual(o.gateway, {
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name: "httpbin-gateway", namespace: "foo" },
    spec: { selector: { istio: "ingressgateway" }, servers: [{ hosts: ["*"], port: { name: "http", number: 80, protocol: "HTTP" } }] },
  });
  t.deepEqual(o.virtualService, {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "httpbin", namespace: "foo" },
    spec: {
      gateways: ["httpbin-gateway"],
      hosts: ["*"],
      http: [
        {
          match: [{ uri: { exact: "/headers" } }],
          route: [{ destination: { host: "httpbin.foo.svc.cluster.local", port: { number: 8000 } } }],
        },
      ],
    },
  });
  t.is(o.certificate, undefined);
});

test("TLS ingress: HTTPS only, credentialName Secret issued in the gateway's namespace", (t) => {
  const o = buildIngress({ namespace: "foo", gatewayNamespace: "istio-system", host: "httpbin.example.com", tls: true });
  t.deepEqual((o.gateway.spec as { servers: unknown }).servers, [
    {
      hosts: ["httpbin.example.com"],
      port: { name: "https", number: 443, protocol: "HTTPS" },
      tls: { credentialName: "httpbin-ingress-tls", mode: "SIMPLE" },
    },
  ]);
  t.deepEqual(o.certificate, {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: "httpbin-ingress", namespace: "istio-system" },
    spec: {
      dnsNames: ["httpbin.example.com"],
      issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "istio-mtls-root-ca" },
      secretName: "httpbin-ingress-tls",
      usages: ["digital signature", "key encipherment", "server auth"],
    },
  });
});

test("TLS with a wildcard host is refused", (t) => {
  const e = t.throws(() => buildIngress({ namespace: "foo", gatewayNamespace: "istio-system", host: "*", tls: true }));
  t.regex(e!.message, /^Gateway foo\/httpbin-gateway: spec\.servers\[0\]\.hosts\[0\]: "\*" on an HTTPS server; allowed: a DNS name without "\*"/);
  t.regex(
    t.throws(() => buildIngress({ namespace: "foo", gatewayNamespace: "istio-system", host: "Bad Host", tls: false }))!.message,
    /hosts\[0\]: "Bad Host" is not a host/,
  );
});

test("gateway chart values: the Service type as the chart's service.type, with the revision when set", (t) => {
  t.deepEqual(gatewayChartValues({ serviceType: "LoadBalancer" }), { service: { type: "LoadBalancer" } });
  t.deepEqual(gatewayChartValues({ serviceType: "NodePort", revision: "1-28" }), { revision: "1-28", service: { type: "NodePort" } });
  t.throws(() => gatewayChartValues({ serviceType: "Headless" as never }), {
    message: 'Helm release istio-ingressgateway: values.service.type: "Headless" is not a gateway Service type; allowed: LoadBalancer, NodePort, ClusterIP',
  });
});
