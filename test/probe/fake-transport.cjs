// A fake cluster for the probe runner and the serialized provider: plain CommonJS so that a
// fresh `node` process (as the Pulumi dynamic-provider host runs) can load it without tsx.
//
// scenario = {
//   pods: [{ namespace, name, labels, phase?, terminating?, containers: [{ name, ready }] }],
//   responses: { "<client ns>|<host>:<port><path>": [resp, resp, ...] }  // nth exec of that client → nth resp (last repeats);
//     "<client ns>/<pod>|<host>:<port><path>" answers that pod only (two clients in one namespace), before the namespace's key;
//     a method other than GET is part of the key: "<client ns>|POST <host>:<port><path>"
//     resp = { code: 200, exit: 0, echo?: false, uri?: "spiffe://...", server?: "envoy", body?: "no healthy upstream" }
//       (echo: the body echoed the request's headers, by default for a 200 as httpbin's /headers does;
//        uri present → XFCC echoed; server and body: the Server header and the body's first line)
//   execOverrides: { "<ns>/<pod>": [{ stdout?, stderr?, exitCode?, error? } | null, ...] }  // per exec number
//   configMaps: { "<ns>/<name>": { key: value } },
//   execLatencyMs?: number, listLatencyMs?: number
// }
"use strict";

function unquote(word) {
  // Undo shellQuote: '…' pieces joined by \'
  return word.split("'\\''").join("'");
}

function fakeTransport(scenario) {
  // requests: every request the scripts sent, { namespace, method, url, token } (token "" when none).
  const stats = { execs: 0, lists: 0, inFlight: 0, maxInFlight: 0, execsByPod: {}, commands: [], requests: [] };
  const delay = (ms) => new Promise((r) => setTimeout(r, ms || 0));
  const matches = (labels, want) => Object.keys(want).every((k) => labels[k] === want[k]);
  return {
    stats,
    async listPods(namespace, labels) {
      stats.lists++;
      await delay(scenario.listLatencyMs);
      return (scenario.pods || [])
        .filter((p) => p.namespace === namespace && matches(p.labels || {}, labels))
        .map((p) => ({ namespace, name: p.name, phase: p.phase || "Running", terminating: !!p.terminating, containers: p.containers }));
    },
    async exec(namespace, pod, container, command, timeoutMs) {
      const key = `${namespace}/${pod}`;
      const n = (stats.execsByPod[key] = (stats.execsByPod[key] || 0) + 1);
      stats.execs++;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      stats.commands.push({ namespace, pod, container, command, timeoutMs });
      try {
        await delay(scenario.execLatencyMs);
        const overrides = (scenario.execOverrides || {})[key] || [];
        const o = overrides[Math.min(n, overrides.length) - 1];
        if (o && o.error) throw new Error(o.error);
        if (o && (o.stdout !== undefined || o.exitCode !== undefined)) {
          return { stdout: o.stdout || "", stderr: o.stderr || "", exitCode: o.exitCode || 0 };
        }
        if (command[0] !== "sh" || command[1] !== "-c") throw new Error(`unexpected command ${command.slice(0, 2).join(" ")}`);
        const lines = [];
        let count = 0;
        for (const line of command[2].split("\n")) {
          const m = /^probe ('(?:[^']|'\\'')*') ('(?:[^']|'\\'')*') ('(?:[^']|'\\'')*') ('(?:[^']|'\\'')*')$/.exec(line);
          if (!m) continue;
          count++;
          const [id, rawUrl, token, method] = m.slice(1).map((w) => unquote(w.slice(1, -1)));
          const url = rawUrl.replace(/^http:\/\//, "");
          stats.requests.push({ namespace, method, url, token });
          const key = `${namespace}|${method === "GET" ? "" : `${method} `}${url}`;
          const list = (scenario.responses || {})[`${namespace}/${pod}${key.slice(namespace.length)}`] || (scenario.responses || {})[key];
          if (!list) throw new Error(`fake cluster: no response for ${key}`);
          const r = list[Math.min(n, list.length) - 1];
          const code = String(r.code).padStart(3, "0");
          lines.push(
            JSON.stringify({ m: "istio-mtls-probe", id, code, exit: r.exit || 0, time: "0.010", echo: r.echo ?? (r.code === 200 || !!r.uri), xfcc: !!r.uri, uri: r.uri || "", server: r.server || "", body: r.body || "" }),
          );
        }
        lines.push(JSON.stringify({ m: "istio-mtls-probe", done: count }));
        return { stdout: lines.join("\n") + "\n", stderr: "", exitCode: 0 };
      } finally {
        stats.inFlight--;
      }
    },
    async readConfigMap(namespace, name) {
      return (scenario.configMaps || {})[`${namespace}/${name}`];
    },
    // scenario.certificateRequests: { "<ns>": [{ name, annotations, conditions, ca? (base64) }] }, as the real transport returns them.
    async listCertificateRequests(namespace) {
      return (scenario.certificateRequests || {})[namespace] || [];
    },
  };
}

module.exports = { fakeTransport };
