/**
 * Pulumi unit-test mocks that record every resource registration: type, name, inputs, whether
 * it is a custom resource, and — read from the registration request itself — its parent and
 * explicit dependencies (URNs), which `setMocks`'s newResource does not show.
 *
 *   const rec = await installRecordingMocks();       // before importing the code under test
 *   const { MyComponent } = await import("../../components/x");
 *   new MyComponent("x", args);
 *   await rec.settle();
 *   rec.ofType("kubernetes:core/v1:Namespace")
 *
 * One Pulumi runtime per process: ava runs each test file in its own process, so install once
 * per file, and use distinct resource names when a file registers several components.
 */
import * as pulumi from "@pulumi/pulumi";
/** The parts of the mock monitor's RegisterResource request read here. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
  getAliasesList(): { toObject(): unknown }[];
}

export interface Registration {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** false for component resources (including remote ones such as CertManager). */
  custom: boolean;
  urn: string;
  /** The parent's URN; the stack's when the resource has no parent. */
  parent: string;
  /** URNs of explicit `dependsOn` resources, expanded to their children as Pulumi does. */
  dependencies: string[];
  /** Property name → URNs that an input Output came from. */
  propertyDependencies: Record<string, string[]>;
  /** The aliases as sent to the engine (Alias messages as plain objects: `{urn}` or `{spec: {parenturn, …}}`). */
  aliases: unknown[];
}

export interface Recorder {
  readonly registrations: Registration[];
  ofType(type: string): Registration[];
  /** The one registration with this type and name; throws listing what exists otherwise. */
  get(type: string, name: string): Registration;
  byUrn(urn: string): Registration | undefined;
  /** A resource's registration, once its URN has resolved (it has reached the mock monitor then). */
  registrationOf(resource: pulumi.Resource): Promise<Registration>;
  /** Resolves once every pending registration has reached the mock monitor. */
  settle(): Promise<void>;
  /** Registrations' type/name/inputs/parent/dependencies as plain JSON text, for equality checks. */
  snapshot(): string;
}

interface MonitorLike {
  registerResource(req: RegisterRequest, callback: (err: unknown, resp: { getUrn(): string } | undefined) => void): unknown;
}

/** The URN the mock monitor assigns: parent types chained with "$", as the engine does. */
function mockUrn(stack: string, project: string, parent: string, type: string, name: string): string {
  const qualified = parent ? `${parent.split("::")[2].split("$").pop()}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** Deterministic state for each resource: its inputs, plus what a few kinds report after create. */
function mockState(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
  const state: Record<string, any> = { ...args.inputs };
  if (args.type === "kubernetes:helm.sh/v3:Release") {
    state.status = { name: args.inputs.name ?? args.name, namespace: args.inputs.namespace, status: "deployed", version: args.inputs.version };
  }
  return state;
}

export async function installRecordingMocks(options: { project?: string; stack?: string; preview?: boolean } = {}): Promise<Recorder> {
  const registrations: Registration[] = [];
  const pending = new Map<string, { parent: string; dependencies: string[]; propertyDependencies: Record<string, string[]>; aliases: unknown[] }>();
  const project = options.project ?? "istio-mtls";
  const stack = options.stack ?? "test";

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const key = `${args.type}::${args.name}`;
        const seen = pending.get(key) ?? { parent: "", dependencies: [], propertyDependencies: {}, aliases: [] };
        pending.delete(key);
        const urn = mockUrn(stack, project, seen.parent, args.type, args.name);
        registrations.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          custom: args.custom ?? false,
          urn,
          ...seen,
        });
        return { id: args.custom ? `${args.name}-id` : undefined, state: mockState(args) };
      },
      call(args) {
        throw new Error(`unexpected invoke ${args.token}: tests must not reach a cluster`);
      },
    },
    project,
    stack,
    options.preview ?? false,
  );

  // The mock monitor drops parent and dependencies before calling newResource; read them from
  // the request first. Keyed by type and name, which Pulumi requires to be unique.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): MonitorLike; waitForRPCs(): Promise<void> };
  const monitor = settings.getMonitor();
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((v, k) => {
      propertyDependencies[k] = [...v.getUrnsList()].sort();
    });
    pending.set(`${req.getType()}::${req.getName()}`, {
      parent: req.getParent(),
      dependencies: [...req.getDependenciesList()].sort(),
      propertyDependencies,
      aliases: req.getAliasesList().map((a) => a.toObject()),
    });
    return original(req, callback);
  };

  const recorder: Recorder = {
    registrations,
    ofType: (type) => registrations.filter((r) => r.type === type),
    get(type, name) {
      const found = registrations.filter((r) => r.type === type && r.name === name);
      if (found.length !== 1) {
        const have = registrations.map((r) => `${r.type}::${r.name}`).join("\n  ");
        throw new Error(`expected one ${type}::${name}, found ${found.length}; registered:\n  ${have}`);
      }
      return found[0];
    },
    byUrn: (urn) => registrations.find((r) => r.urn === urn),
    registrationOf: (resource) =>
      new Promise((resolve, reject) =>
        resource.urn.apply((urn) => {
          const found = registrations.find((r) => r.urn === urn);
          if (found) resolve(found);
          else reject(new Error(`${urn} is not among the registrations`));
        }),
      ),
    async settle() {
      // Registrations queue up behind Output resolution; wait until the queue stays drained.
      let count = -1;
      while (count !== registrations.length) {
        count = registrations.length;
        await settings.waitForRPCs();
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    snapshot: () =>
      JSON.stringify(
        registrations
          .map(({ type, name, inputs, parent, dependencies }) => ({ type, name, inputs, parent, dependencies }))
          .sort((a, b) => (a.type + a.name < b.type + b.name ? -1 : 1)),
      ),
  };
  return recorder;
}

export interface ProbeUnderMocks {
  recorder: Recorder;
  ConnectivityProbe: typeof import("../../components/connectivity-probe").ConnectivityProbe;
  /** The serialized dynamic provider a ConnectivityProbe registered with (its `__provider` input). */
  providerText(probe: pulumi.Resource): Promise<string>;
}

/**
 * The setup of the probe provider's tests: recording mocks, then the ConnectivityProbe component
 * imported after them (as Pulumi unit tests must), whose registered provider text the tests run in
 * a fresh Node process. Once per file, like installRecordingMocks.
 */
export async function probeUnderMocks(): Promise<ProbeUnderMocks> {
  const recorder = await installRecordingMocks();
  const { ConnectivityProbe } = await import("../../components/connectivity-probe");
  return {
    recorder,
    ConnectivityProbe,
    providerText: async (probe) => (await recorder.registrationOf(probe)).inputs.__provider as string,
  };
}

/** The URN the recorder (and mock monitor) gives a resource, for parent/dependency checks. */
export function urnOf(r: Registration): string {
  return r.urn;
}
