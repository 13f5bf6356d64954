import test from "ava";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listYamlFiles, readYamlPaths, readYamlText, SourceErrors } from "../../mesh/yaml";

const FIXTURES = join(__dirname, "..", "fixtures", "yaml");
const fixture = (name: string): string => join(FIXTURES, name);

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof SourceErrors) return e.errors.map((x) => x.message);
    throw e;
  }
  throw new Error("expected SourceErrors, nothing was thrown");
}

test("multi-document text: objects in order, each with the line where it starts", (t) => {
  const text = [
    "# leading comment",
    "apiVersion: v1",
    "kind: Namespace",
    "metadata:",
    "  name: foo",
    "---",
    "---",
    "apiVersion: v1",
    "kind: Service",
    "metadata:",
    "  name: httpbin",
    "  namespace: foo",
    "",
  ].join("\n");
  const objects = readYamlText(text, "in.yaml");
  t.deepEqual(
    objects.map((o) => [o.object.kind, o.object.metadata.name, o.position.line, o.position.col]),
    [
      ["Namespace", "foo", 2, 1],
      ["Service", "httpbin", 8, 1],
    ],
  );
  t.is(objects[0]!.position.file, "in.yaml");
});

test("metadata.namespace defaults to \"default\" for namespaced kinds, stays unset for cluster-scoped ones", (t) => {
  const objects = readYamlText(
    [
      "apiVersion: v1\nkind: Service\nmetadata: {name: a}",
      "apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: \"\"}",
      "apiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: bar}",
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: d}",
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: e}",
    ].join("\n---\n"),
    "ns.yaml",
  );
  t.deepEqual(
    objects.map((o) => o.object.metadata.namespace),
    ["default", "default", "bar", undefined, undefined],
  );
});

test("kind: List yields its items, each located at its entry under items", (t) => {
  const objects = readYamlPaths([fixture("tree/nested/c-list.yaml")]);
  t.deepEqual(
    objects.map((o) => [o.object.kind, o.object.metadata.namespace, o.object.metadata.name, o.position.line, o.position.col]),
    [
      ["ServiceAccount", "foo", "sleep", 4, 5],
      ["ConfigMap", "default", "settings", 9, 5],
    ],
  );
});

test("a typed list as kubectl get -o yaml prints it (PodList-style kind) is read like List", (t) => {
  const objects = readYamlText(
    "apiVersion: v1\nkind: ServiceAccountList\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: x, namespace: y}\n",
    "list.yaml",
  );
  t.deepEqual(objects.map((o) => `${o.object.kind} ${o.object.metadata.namespace}/${o.object.metadata.name}`), ["ServiceAccount y/x"]);
});

test("directories: *.yaml and *.yml recursively, sorted by path; other files ignored", (t) => {
  const dir = fixture("tree");
  t.deepEqual(listYamlFiles(dir), [join(dir, "a-namespace.yml"), join(dir, "b-policies.yaml"), join(dir, "nested", "c-list.yaml")]);
  const objects = readYamlPaths([dir]);
  t.deepEqual(
    objects.map((o) => `${o.object.kind}/${o.object.metadata.name}@${o.position.file.slice(dir.length + 1)}:${o.position.line}`),
    [
      "Namespace/foo@a-namespace.yml:1",
      "PeerAuthentication/default@b-policies.yaml:2",
      "DestinationRule/httpbin@b-policies.yaml:13",
      "ServiceAccount/sleep@nested/c-list.yaml:4",
      "ConfigMap/settings@nested/c-list.yaml:9",
    ],
  );
});

test("locate() points at the key of a field path, or at the deepest part of it that exists", (t) => {
  const [pa] = readYamlPaths([fixture("unknown-field.yaml")]);
  t.deepEqual(pa!.locate(["spec", "mtls", "mod"]), { file: fixture("unknown-field.yaml"), line: 8, col: 5 });
  t.deepEqual(pa!.locate(["spec", "mtls"]), { file: fixture("unknown-field.yaml"), line: 7, col: 3 });
  // No `selector` under spec: the position of `spec` itself.
  t.deepEqual(pa!.locate(["spec", "selector", "matchLabels"]), { file: fixture("unknown-field.yaml"), line: 6, col: 1 });
  const items = readYamlText("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: A\n  metadata: {name: a}\n- apiVersion: v1\n  kind: B\n  metadata:\n    name: b\n", "l.yaml");
  t.deepEqual(items[1]!.locate(["metadata", "name"]), { file: "l.yaml", line: 10, col: 5 });
});

test("YAML syntax errors name file:line:col and the parser's message", (t) => {
  const file = fixture("bad-syntax.yaml");
  const messages = errorsOf(() => readYamlPaths([file]));
  // The unclosed `[sleep` on line 9 is noticed where the next key starts.
  t.deepEqual(messages, [`${file}:10:3: Flow sequence in block collection must be sufficiently indented and end with a ]`]);
});

test("duplicate keys are a syntax error at the second key", (t) => {
  t.deepEqual(errorsOf(() => readYamlText("apiVersion: v1\nkind: A\nkind: B\nmetadata: {name: a}\n", "dup.yaml")), [
    "dup.yaml:3:1: Map keys must be unique",
  ]);
});

test("documents that are not Kubernetes objects are errors at their first line, each reported", (t) => {
  const file = fixture("not-an-object.yaml");
  t.deepEqual(errorsOf(() => readYamlPaths([file])), [
    `${file}:6:1: not a Kubernetes object: expected a mapping with apiVersion, kind and metadata, found a list`,
    `${file}:9:1: not a Kubernetes object: metadata.name must be a non-empty string, found nothing`,
  ]);
  t.deepEqual(errorsOf(() => readYamlText("kind: Service\nmetadata: {name: a}\n", "x.yaml")), [
    "x.yaml:1:1: not a Kubernetes object: apiVersion must be a non-empty string, found nothing",
  ]);
  t.deepEqual(errorsOf(() => readYamlText("42\n", "x.yaml")), [
    "x.yaml:1:1: not a Kubernetes object: expected a mapping with apiVersion, kind and metadata, found number 42",
  ]);
});

test("a file of comments only, or an empty file, holds no objects", (t) => {
  t.deepEqual(readYamlText("# nothing here\n", "c.yaml"), []);
  t.deepEqual(readYamlText("", "e.yaml"), []);
});

test("merge keys work, and y/yes/on stay strings (YAML 1.2 core schema)", (t) => {
  const [o] = readYamlText(
    "apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: a\n  namespace: foo\ndata:\n  <<: {x: '1'}\n  y: '2'\n",
    "m.yaml",
  );
  t.deepEqual(o!.object.data, { x: "1", y: "2" });
  const [n] = readYamlText("apiVersion: v1\nkind: Namespace\nmetadata: {name: on, labels: {a: yes}}\n", "b.yaml");
  t.deepEqual(n!.object.metadata, { name: "on", labels: { a: "yes" } });
});

test("unreadable paths: the path and the OS error, all collected before failing", (t) => {
  const missing = join(FIXTURES, "does-not-exist.yaml");
  const dir = mkdtempSync(join(tmpdir(), "istio-mtls-yaml-"));
  try {
    const empty = join(dir, "empty");
    writeFileSync(join(dir, "locked.yaml"), "apiVersion: v1\n");
    chmodSync(join(dir, "locked.yaml"), 0o000);
    const messages = errorsOf(() => readYamlPaths([missing, fixture("tree/a-namespace.yml"), dir]));
    t.is(messages[0], `${missing}: cannot read: ENOENT: no such file or directory`);
    // root reads any file regardless of mode; the check only holds for other users.
    if (process.getuid?.() !== 0) t.is(messages[1], `${join(dir, "locked.yaml")}: cannot read: EACCES: permission denied`);
    rmSync(join(dir, "locked.yaml"));
    mkdirSync(empty);
    t.deepEqual(errorsOf(() => readYamlPaths([empty])), [`${empty}: directory holds no .yaml or .yml file`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("\"-\" reads standard input through the given reader", (t) => {
  const objects = readYamlPaths(["-"], () => "apiVersion: v1\nkind: Namespace\nmetadata: {name: foo}\n");
  t.deepEqual(objects.map((o) => [o.object.metadata.name, o.position.file]), [["foo", "<stdin>"]]);
});

/** A "billion laughs" document: each alias level multiplies the size by ten. */
const ALIAS_BOMB = [
  "apiVersion: v1",
  "kind: ConfigMap",
  "metadata: {name: lol, namespace: foo}",
  "data:",
  '  a: &a ["x","x","x","x","x","x","x","x","x","x"]',
  ..."bcdefghi".split("").map((c, i) => `  ${c}: &${c} [${Array(10).fill(`*${"abcdefghi"[i]}`).join(",")}]`),
].join("\n");

test("aliases that expand too much (billion laughs) are an error at the document, naming the file", (t) => {
  t.deepEqual(errorsOf(() => readYamlText(`${ALIAS_BOMB}\n`, "bomb.yaml")), [
    "bomb.yaml:1:1: cannot expand the YAML aliases: Excessive alias count indicates a resource exhaustion attack",
  ]);
});

test("binary and UTF-16 files are refused by name, without quoting them", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "istio-mtls-bytes-"));
  try {
    const binary = join(dir, "image.yaml");
    const bytes = Buffer.alloc(1 << 20, 0x41);
    bytes[100] = 0;
    writeFileSync(binary, bytes);
    const utf16 = join(dir, "utf16.yaml");
    writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", "utf16le")]));
    const utf16be = join(dir, "utf16be.yaml");
    writeFileSync(utf16be, Buffer.from([0xfe, 0xff, 0, 0x61]));
    t.deepEqual(errorsOf(() => readYamlPaths([binary, utf16, utf16be])), [
      `${binary}: binary file (NUL byte at offset 100), not YAML text`,
      `${utf16}: UTF-16 text (byte order mark); save it as UTF-8`,
      `${utf16be}: UTF-16 text (byte order mark); save it as UTF-8`,
    ]);
    t.deepEqual(errorsOf(() => readYamlPaths(["-"], () => "a\u0000b")), ["<stdin>: binary or UTF-16 input (NUL character), not UTF-8 YAML text"]);
    // A UTF-8 byte order mark is text: the object is read.
    const bom = join(dir, "bom.yaml");
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")]));
    t.is(readYamlPaths([bom])[0]?.object.metadata.name, "a");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an error quotes at most a short excerpt of the input", (t) => {
  const big = "x".repeat(1 << 20);
  const [scalar] = errorsOf(() => readYamlText(`${big}\n`, "big.yaml"));
  t.true(scalar!.length < 200, scalar);
  t.regex(scalar!, /^big\.yaml:1:1: not a Kubernetes object: .* found string "xxx+…$/);
  const [syntax] = errorsOf(() => readYamlText(`a: b: ${big}\n`, "big.yaml"));
  t.true(syntax!.length < 200, syntax);
});
