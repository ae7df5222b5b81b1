/** The reconcilers that turn desired state into reality, one per resource kind. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowLogWriter } from './flow-logs.js';
import { InstanceReconciler, type InstanceReconcilerDeps } from './instances.js';
import type { Reconciler, ReconcilerDeps } from './reconciler.js';
import type { Runtime } from './runtime.js';
import { VolumeReconciler } from './volumes.js';
import { TransitGatewayReconciler } from './transit-gateways.js';
import { RecordStateReconciler } from './record-states.js';
import { PeeringLinkReconciler } from './peering-links.js';
import { Ipv6RoutingReconciler } from './ipv6-routing.js';
import { NatGatewayReconciler } from './nat-gateways.js';

export type { Reconciler, ReconcilerDeps } from './reconciler.js';
export { selectRuntime, RuntimeUnavailable, type Runtime } from './runtime.js';

/** What instances use besides the drivers: image files, and the services each VPC network gets. */
export type InstanceExtras = Pick<InstanceReconcilerDeps, 'imageFile' | 'onNetwork'>;

/** The reconcilers, driving the runtime selectRuntime chose. */
export function createReconcilers(deps: ReconcilerDeps, runtime: Runtime, extras: InstanceExtras & { log?: (line: string) => void; clock?: () => Date } = {}): Reconciler[] {
  const { log, clock, ...instanceExtras } = extras;
  // the volume reconciler stores the snapshots whose points the instances' reconciler took
  let volumes: VolumeReconciler | undefined;
  const instances = new InstanceReconciler({
    ...deps,
    ...instanceExtras,
    onSnapshot: (region, id) => volumes?.handle({ kind: 'snapshot', region, id }),
    driver: runtime.hypervisor,
    fabric: runtime.fabric,
    firewall: runtime.firewall,
    blockStore: runtime.blockStore,
  });
  const ipv6 = new Ipv6RoutingReconciler({ ...deps, fabric: runtime.fabric, log: log && ((line) => log(`reconcile/ipv6-routing: ${line}`)) });
  const links = new PeeringLinkReconciler({ ...deps, fabric: runtime.fabric, log: log && ((line) => log(`reconcile/peering-links: ${line}`)) });
  const nats = new NatGatewayReconciler({ ...deps, fabric: runtime.fabric, log: log && ((line) => log(`reconcile/nat-gateways: ${line}`)) });
  return [
    // first: the server stops reconcilers in this order, and the writer drains the firewall the instances' reconciler closes
    new FlowLogWriter({
      firewall: runtime.firewall,
      store: deps.store,
      regions: deps.config.regions,
      // an in-memory server keeps its flow log files in a temporary directory
      dataDir: deps.config.dataDir === ':memory:' ? join(tmpdir(), `overcast-memory-${process.pid}`) : deps.config.dataDir,
      accountId: deps.config.accountId,
      log,
    }),
    // before the instances' reconciler, which closes the block store they share
    (volumes = new VolumeReconciler({
      ...deps,
      blockStore: runtime.blockStore,
      clock,
      onInstance: (region, id) => instances.handle({ kind: 'instance', region, id }),
      applyLimits: (region, id) => instances.applyVolumeLimits(region, id),
    })),
    // before the instances' reconciler, which closes the fabric they share
    links,
    nats,
    ipv6,
    instances,
    new TransitGatewayReconciler(deps),
    // peering connections, NAT gateways and IPv6 blocks reach the fabric once active / available / associated: the state reconciler tells theirs what it moved
    new RecordStateReconciler({
      ...deps,
      log: log && ((line) => log(`reconcile/record-states: ${line}`)),
      onChange: (e) => {
        links.handle(e);
        nats.handle(e);
        ipv6.handle(e);
      },
    }),
  ];
}
