/** Pure manifest builders: plain Kubernetes, Istio and cert-manager objects, no Pulumi. */
export * from "./kinds";
export * from "./meta";
export * from "./duration";
export * from "./namespace";
export * from "./httpbin";
export * from "./sleep";
export * from "./peer-authentication";
export * from "./destination-rule";
export * from "./end-user-auth";
export * from "./authorization";
export * from "./mesh-ca";
export * from "./ingress";
export * from "./mesh-config";
export * from "./intent";
export * from "./istio";
export * from "./cert-manager";
export * from "./probe-client";
