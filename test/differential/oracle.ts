/**
 * The oracle (tools/oracle) from TypeScript: built by tools/oracle/build.sh, run as long-lived
 * `-serve` processes (one JSON line per scenario each way) so that its start-up is paid once.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parse } from "yaml";
import type { KubeObject } from "../../mesh/types";
import { REVISIONS, type Webhooks } from "./generate";

const ROOT = resolve(__dirname, "../..");

export interface OracleEndpoint {
  workload: string;
  address: string;
  metadata?: string;
  socket: string;
  sends: string;
  serverSidecar: boolean;
  filterChain?: string;
  inbound?: string;
  rbac?: { allowed: boolean; why: string };
  code: number;
  mtls: boolean;
}

export interface OracleCell {
  from: string;
  to: string;
  code: number;
  mtls: boolean;
  evidence: { clientSidecar: boolean; cluster?: string; endpoints: OracleEndpoint[] | null; note?: string };
}

export interface OracleOutput {
  id?: string;
  cells?: OracleCell[];
  rejected?: string;
  limit?: string;
  error?: string;
  notices?: string[];
}

/** Builds (or finds cached) the oracle; returns its path. Build output goes to stderr. */
export function buildOracle(): string {
  const out = execFileSync("bash", [join(ROOT, "tools/oracle/build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const lines = out.trim().split("\n");
  for (const l of lines.slice(0, -1)) process.stderr.write(`${l}\n`);
  return join(lines[lines.length - 1]!, "istio-mtls-oracle");
}

/** The chart's injection webhook per revision, as the oracle renders it (Istio's own chart). */
export function renderWebhooks(oracle: string): Webhooks {
  const text = execFileSync(oracle, [`-render-webhooks=${REVISIONS.join(",")}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 16 << 20 });
  const docs = text.split(/^---$/m).map((d) => parse(d) as KubeObject | null).filter((d): d is KubeObject => d !== null);
  const byRevision: Partial<Record<string, KubeObject>> = {};
  for (const d of docs) {
    const rev = d.metadata.labels?.["istio.io/rev"];
    if (rev) byRevision[rev] = d;
  }
  for (const rev of REVISIONS) if (!byRevision[rev]) throw new Error(`the oracle rendered no webhook for revision ${rev}`);
  return byRevision as Webhooks;
}

class Worker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly waiting: ((o: OracleOutput) => void)[] = [];
  private stderr = "";
  private exited: string | undefined;

  constructor(oracle: string) {
    // A larger GC target: a scenario allocates a fake istiod, and collecting it often costs a third of the time.
    this.proc = spawn(oracle, ["-serve"], { env: { ...process.env, GOGC: "400" } });
    createInterface({ input: this.proc.stdout }).on("line", (line) => {
      const resolve = this.waiting.shift();
      if (resolve) resolve(JSON.parse(line) as OracleOutput);
    });
    // Keep the tail only: Istio logs a few lines per scenario.
    this.proc.stderr.on("data", (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4000);
    });
    this.proc.on("exit", (code) => {
      this.exited = `the oracle exited (${code}); its last output:\n${this.stderr}`;
      for (const w of this.waiting.splice(0)) w({ error: this.exited });
    });
  }

  get pending(): number {
    return this.waiting.length;
  }

  evaluate(id: string, yaml: string): Promise<OracleOutput> {
    if (this.exited) return Promise.resolve({ id, error: this.exited });
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.proc.stdin.write(`${JSON.stringify({ id, yaml })}\n`);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.exited) return resolve();
      this.proc.on("exit", () => resolve());
      this.proc.stdin.end();
    });
  }
}

/** A pool of `-serve` processes; each scenario goes to the least busy one. */
export class Oracle {
  private readonly workers: Worker[];

  constructor(path: string, processes: number) {
    this.workers = Array.from({ length: processes }, () => new Worker(path));
  }

  evaluate(id: string, yaml: string): Promise<OracleOutput> {
    const w = this.workers.reduce((a, b) => (b.pending < a.pending ? b : a));
    return w.evaluate(id, yaml);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
