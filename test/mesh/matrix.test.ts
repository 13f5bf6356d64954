import test from "ava";
import { alignColumns, cellName, cellText, codeText, diffPredictions, formatDiff, formatJson, formatPrediction, summary } from "../../mesh/matrix";
import { predict } from "../../mesh/predict";
import { DEFAULT_REQUEST, type Cell, type Prediction } from "../../mesh/prediction";
import { demo } from "./fixtures";

/** A hand-made cell: the client and target refs follow from the names. */
function cell(from: string, to: string, code: number, mtls: boolean, reason: string): Cell {
  const [name, namespace] = from.split(".") as [string, string];
  const [svc, port] = to.split(":") as [string, string];
  const [service, tns] = svc.split(".") as [string, string];
  return {
    from,
    to,
    request: DEFAULT_REQUEST,
    code,
    mtls,
    reason,
    client: { namespace, name, labels: { app: name }, serviceAccount: name, sidecar: namespace !== "legacy" },
    target: { namespace: tns, service, port: Number(port), targetPort: 8080 },
  };
}

const MTLS = "sidecar client, mTLS (auto mTLS) → STRICT at port 8080 (PeerAuthentication istio-system/default)";
const LEGACY = "plaintext client (no sidecar) → httpbin.legacy has no sidecar";
const RESET = "plaintext client (no sidecar) → STRICT at port 8080 (PeerAuthentication istio-system/default)";
const TO_LEGACY = "sidecar client, plaintext (auto mTLS: endpoint httpbin.legacy has no sidecar) → httpbin.legacy has no sidecar";

const strict: Prediction = {
  probes: [
    cell("sleep.foo", "httpbin.foo:8000", 200, true, MTLS),
    cell("sleep.foo", "httpbin.legacy:8000", 200, false, TO_LEGACY),
    cell("sleep.legacy", "httpbin.foo:8000", 0, false, RESET),
    cell("sleep.legacy", "httpbin.legacy:8000", 200, false, LEGACY),
  ],
};

test("cell text: curl's code with three digits, mTLS when Istio mTLS carried the request", (t) => {
  t.is(cellText({ code: 200, mtls: true }), "200 mTLS");
  t.is(cellText({ code: 200, mtls: false }), "200");
  t.is(cellText({ code: 0, mtls: false }), "000");
  t.is(cellText({ code: 503, mtls: false }), "503");
  t.is(cellText({ code: 403, mtls: true }), "403 mTLS");
});

test("table: aligned matrix, summary, numbered legend of every distinct reason", (t) => {
  t.is(
    formatPrediction(strict, "table"),
    [
      "from \\ to     httpbin.foo:8000  httpbin.legacy:8000",
      "sleep.foo     200 mTLS [1]      200 [2]",
      "sleep.legacy  000 [3]           200 [4]",
      "",
      "4 probes: 2 × 200, 1 × 000, 1 × 200 mTLS",
      "",
      `[1] ${MTLS}`,
      `[2] ${TO_LEGACY}`,
      `[3] ${RESET}`,
      `[4] ${LEGACY}`,
      "",
    ].join("\n"),
  );
});

test("table: no line ends with a space, and every row has the header's column starts", (t) => {
  const out = formatPrediction(strict, "table");
  for (const line of out.split("\n")) t.false(/ $/.test(line), JSON.stringify(line));
  const [header, ...rows] = out.split("\n").slice(0, 3);
  const starts = (l: string) => [...l.matchAll(/(?<=  )\S/g)].map((m) => m.index);
  for (const r of rows) t.deepEqual(starts(r), starts(header!));
});

test("table: a missing cell shows -, a shared reason keeps one number, legend numbers align past 9", (t) => {
  const probes: Cell[] = [];
  for (let i = 1; i <= 10; i++) probes.push(cell(`c${i}.foo`, "httpbin.foo:8000", 403, true, `reason ${i}`));
  probes.push(cell("c1.foo", "httpbin.bar:8000", 403, true, "reason 1"));
  const out = formatPrediction({ probes }, "table").split("\n");
  t.is(out[1], "c1.foo     403 mTLS [1]      403 mTLS [1]");
  t.is(out[2], "c2.foo     403 mTLS [2]      -");
  t.is(out.find((l) => l.endsWith("reason 1")), "[ 1] reason 1");
  t.is(out.find((l) => l.endsWith("reason 10")), "[10] reason 10");
});

test("markdown: a GitHub table with the same cells, pipes escaped, numbered legend", (t) => {
  const p: Prediction = { probes: [...strict.probes.slice(0, 3), cell("sleep.legacy", "httpbin.legacy:8000", 200, false, "a | b")] };
  t.is(
    formatPrediction(p, "markdown"),
    [
      "| from \\ to | httpbin.foo:8000 | httpbin.legacy:8000 |",
      "| --- | --- | --- |",
      "| sleep.foo | 200 mTLS [1] | 200 [2] |",
      "| sleep.legacy | 000 [3] | 200 [4] |",
      "",
      "4 probes: 2 × 200, 1 × 000, 1 × 200 mTLS",
      "",
      `1. ${MTLS}`,
      `2. ${TO_LEGACY}`,
      `3. ${RESET}`,
      "4. a \\| b",
      "",
    ].join("\n"),
  );
});

test("json: {probes: [...]} with from, to, code, mtls, reason as the first keys", (t) => {
  const out = formatPrediction(strict, "json");
  const parsed = JSON.parse(out) as { probes: Record<string, unknown>[] };
  t.deepEqual(Object.keys(parsed), ["probes"]);
  t.is(parsed.probes.length, 4);
  for (const p of parsed.probes) t.deepEqual(Object.keys(p).slice(0, 5), ["from", "to", "code", "mtls", "reason"]);
  t.deepEqual(parsed.probes[2], { ...strict.probes[2] });
  t.true(out.startsWith('{\n  "probes": [\n    {\n      "from": "sleep.foo",\n      "to": "httpbin.foo:8000",\n      "code": 200,\n      "mtls": true,\n      "reason": '));
});

test("empty prediction: a sentence instead of an empty table", (t) => {
  t.is(formatPrediction({ probes: [] }, "table"), "no probes: the input has no client workload or no Service port with endpoints\n");
  t.deepEqual(JSON.parse(formatPrediction({ probes: [] }, "json")), { probes: [] });
});

test("a prediction listing a cell twice is refused", (t) => {
  t.throws(() => formatPrediction({ probes: [strict.probes[0]!, strict.probes[0]!] }, "table"), {
    message: "prediction lists sleep.foo → httpbin.foo:8000 twice",
  });
});

test("summary counts outcomes, most frequent first", (t) => {
  t.is(summary(strict), "4 probes: 2 × 200, 1 × 000, 1 × 200 mTLS");
  t.is(summary({ probes: [strict.probes[0]!] }), "1 probe: 1 × 200 mTLS");
});

test("alignColumns pads by code points so arrows do not skew columns", (t) => {
  t.deepEqual(alignColumns([["a → b", "x"], ["abcdefg", "y "]]), ["a → b    x", "abcdefg  y"]);
});

// ---- diff ---------------------------------------------------------------------------------

const DR = "sidecar client, mTLS (DestinationRule istio-system/default ISTIO_MUTUAL) → httpbin.legacy has no sidecar; mTLS reaches a plaintext app";
const withDr: Prediction = {
  probes: [
    cell("sleep.foo", "httpbin.foo:8000", 200, true, MTLS.replace("auto mTLS", "DestinationRule istio-system/default ISTIO_MUTUAL")),
    cell("sleep.foo", "httpbin.legacy:8000", 503, false, DR),
    cell("sleep.legacy", "httpbin.foo:8000", 0, false, RESET),
    cell("sleep.legacy", "httpbin.legacy:8000", 200, false, LEGACY),
  ],
};

test("diff keeps only cells whose code or mTLS changes, with both reasons", (t) => {
  const d = diffPredictions(strict, withDr);
  t.deepEqual(
    d.changes.map((c) => [c.from, c.to, c.old?.code, c.new?.code]),
    [["sleep.foo", "httpbin.legacy:8000", 200, 503]],
  );
  t.is(d.unchanged, 3);
  t.is(d.reasonOnly, 1);
  t.is(
    formatDiff(d, "table"),
    [
      "1 of 4 cells changes; 1 unchanged cell now decided by another reason",
      "",
      "sleep.foo  → httpbin.legacy:8000  200  → 503",
      `  old: ${TO_LEGACY}`,
      `  new: ${DR}`,
      "",
    ].join("\n"),
  );
});

test("diff: an mTLS-only change counts; columns align across changes", (t) => {
  const a: Prediction = { probes: [cell("sleep.foo", "httpbin.foo:8000", 200, true, "x"), cell("sleep.legacy", "httpbin.bar:8000", 200, false, "p")] };
  const b: Prediction = { probes: [cell("sleep.foo", "httpbin.foo:8000", 200, false, "y"), cell("sleep.legacy", "httpbin.bar:8000", 0, false, "q")] };
  t.is(
    formatDiff(diffPredictions(a, b), "table"),
    [
      "2 of 2 cells change",
      "",
      "sleep.foo     → httpbin.foo:8000  200 mTLS  → 200",
      "  old: x",
      "  new: y",
      "",
      "sleep.legacy  → httpbin.bar:8000  200       → 000",
      "  old: p",
      "  new: q",
      "",
    ].join("\n"),
  );
});

test("diff: cells on one side only are changes to or from absent", (t) => {
  const a: Prediction = { probes: [cell("sleep.foo", "httpbin.foo:8000", 200, true, "x"), cell("sleep.bar", "httpbin.foo:8000", 200, true, "x")] };
  const b: Prediction = { probes: [cell("sleep.foo", "httpbin.foo:8000", 200, true, "x"), cell("sleep.foo", "httpbin.baz:8000", 200, true, "z")] };
  const d = diffPredictions(a, b);
  t.deepEqual(
    d.changes.map((c) => `${c.from} → ${c.to}: ${c.old ? cellText(c.old) : "absent"} → ${c.new ? cellText(c.new) : "absent"}`),
    ["sleep.foo → httpbin.baz:8000: absent → 200 mTLS", "sleep.bar → httpbin.foo:8000: 200 mTLS → absent"],
  );
  const text = formatDiff(d, "table");
  t.true(text.includes("  old: no such probe in OLD (client workload or Service port not in its input)\n  new: z\n"));
  t.deepEqual(JSON.parse(formatDiff(d, "json")).changes[1], {
    from: "sleep.bar",
    to: "httpbin.foo:8000",
    old: { code: 200, mtls: true, reason: "x" },
    new: null,
  });
});

test("diff: no change in every format", (t) => {
  const d = diffPredictions(strict, strict);
  t.deepEqual(d.changes, []);
  t.is(formatDiff(d, "table"), "no change: all 4 cells keep their outcome\n");
  t.is(formatDiff(d, "markdown"), "no change: all 4 cells keep their outcome\n");
  t.deepEqual(JSON.parse(formatDiff(d, "json")), { changes: [], unchanged: 4, reasonOnly: 0 });
  t.is(formatDiff(diffPredictions(strict, { probes: strict.probes.map((p) => ({ ...p, reason: "other" })) }), "table"), "no change: all 4 cells keep their outcome; 4 unchanged cells now decided by another reason\n");
});

test("diff markdown: one row per change with both reasons", (t) => {
  t.is(
    formatDiff(diffPredictions(strict, withDr), "markdown"),
    [
      "1 of 4 cells changes; 1 unchanged cell now decided by another reason",
      "",
      "| from | to | old | new | old reason | new reason |",
      "| --- | --- | --- | --- | --- | --- |",
      `| sleep.foo | httpbin.legacy:8000 | 200 | 503 | ${TO_LEGACY} | ${DR} |`,
      "",
    ].join("\n"),
  );
});

test("one home for a cell's name and curl's code", (t) => {
  t.is(cellName({ from: "sleep.legacy", to: "httpbin.foo:8000" }), "sleep.legacy → httpbin.foo:8000");
  t.deepEqual([0, 200, 503].map(codeText), ["000", "200", "503"]);
});

test("json: every cell carries the request it was predicted for", (t) => {
  const token = { kind: "valid" as const, issuer: "https://issuer.example", subject: "alice" };
  const p = predict(demo(), { request: { path: "/ip", token } });
  t.true(p.probes.length > 0);
  for (const c of p.probes) t.deepEqual(c.request, { path: "/ip", method: "GET", token });
  const json = JSON.parse(formatJson(p)) as { probes: { request: unknown }[] };
  t.deepEqual(json.probes[0]!.request, { path: "/ip", method: "GET", token });
  t.deepEqual(predict(demo()).probes[0]!.request, DEFAULT_REQUEST);
});
