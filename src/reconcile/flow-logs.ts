/**
 * The flow log writer: makes the firewall capture the flows of every interface
 * an active flow log covers (a VPC's interfaces, a subnet's, or one), and every
 * interval drains what it captured and appends one line per record and flow
 * log — in the flow log's format, when its TrafficType admits the record's
 * action — to the flow log's file, `<dataDir>/flow-logs/<LogDestination>` (one
 * write per file per drain). Each interval it also reads the firewall's rule
 * counters and logs the rules whose packet count grew.
 *
 * What is captured is worked out again on a 'flow-log', 'instance' or
 * 'network-interface' change, at start, and before each drain (so a missed
 * event costs at most one interval). A record of an interface no flow log
 * covers any more is dropped: a deleted flow log stops writing at once.
 *
 * The records go out as the firewall polled them: one line per flow and drain,
 * not aggregated over MaxAggregationInterval.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseLogFormat, renderFlowLogLine, type FlowLogField } from '../domain/flow-log-format.js';
import type { ChangeEvent } from '../resources/context.js';
import { admitsAction, FLOW_LOG_CHANGE, flowLogCoverage, flowLogFile } from '../resources/ec2/flow-logs.js';
import { KINDS } from '../resources/ec2/kinds.js';
import type { FlowLogRecord } from '../resources/ec2/records.js';
import type { Store } from '../store/store.js';
import { FirewallError, type Firewall, type FlowRecord } from '../network/firewall.js';
import type { Reconciler } from './reconciler.js';

export interface FlowLogWriterDeps {
  firewall: Firewall;
  /** where flow logs and interfaces are read (outside any transaction: the store's read cache) */
  store: Store;
  /** the regions served; regions named by change events are added */
  regions: readonly string[];
  /** the data directory: files go under `<dataDir>/flow-logs/` */
  dataDir: string;
  /** how often flows are drained and counters read (default 5000 ms) */
  intervalMs?: number;
  /** the account id the records carry */
  accountId: string;
  /** the server log (default: stderr) */
  log?: (line: string) => void;
}

/** The change kinds that may change what is captured. */
const COVERAGE_CHANGES: ReadonlySet<string> = new Set([FLOW_LOG_CHANGE, KINDS.instance.name, KINDS.networkInterface.name]);

/** One flow log as the writer uses it. */
interface ActiveLog {
  record: FlowLogRecord;
  fields: readonly FlowLogField[];
  file: string;
}

export class FlowLogWriter implements Reconciler {
  private readonly firewall: Firewall;
  private readonly regions: Set<string>;
  private readonly intervalMs: number;
  private readonly log: (line: string) => void;
  /** interface id → the flow logs that cover it */
  private coverage = new Map<string, ActiveLog[]>();
  /** what captureFlows was last given (sorted), undefined before the first call */
  private captured: string[] | undefined;
  /** `<owner> <rule>` → packets at the last reading */
  private counterBase = new Map<string, number>();
  /** whether counterBase holds a first reading (which is a baseline, not logged) */
  private countersPrimed = false;
  private readonly formats = new Map<string, readonly FlowLogField[] | undefined>();
  /** one operation at a time: refresh, drain, counters */
  private chain: Promise<void> = Promise.resolve();
  /** a change event's refresh is queued and has not started yet */
  private refreshQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private saidUnsupported = false;

  constructor(private readonly deps: FlowLogWriterDeps) {
    this.firewall = deps.firewall;
    this.regions = new Set(deps.regions);
    this.intervalMs = deps.intervalMs ?? 5000;
    this.log = deps.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  handle(e: ChangeEvent): void {
    if (this.closed || !COVERAGE_CHANGES.has(e.kind)) return;
    this.regions.add(e.region);
    // one refresh waiting to start is enough for any number of changes: it reads the store
    // when it starts, so it sees them all (a burst of launches changes many interfaces)
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    this.enqueue(() => {
      this.refreshQueued = false;
      return this.refresh();
    }).catch((err: unknown) => this.log(`flow logs: ${(err as Error).message}`));
  }

  /** Captures what the flow logs cover now and starts the interval. */
  async start(): Promise<void> {
    await this.enqueue(() => this.refresh());
    if (this.closed || this.timer) return;
    this.timer = setInterval(() => {
      this.flush().catch((err: unknown) => this.log(`flow logs: ${(err as Error).message}`));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One interval's work at once: what is covered, the drained flows written, the counters logged. */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.enqueue(async () => {
      await this.refresh();
      await this.drain();
      await this.logCounters();
    });
  }

  /** Stops the interval, writes what is left and stops capturing. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.enqueue(async () => {
      this.closed = true;
      try {
        await this.drain();
        if (this.captured !== undefined && this.captured.length > 0) await this.firewall.captureFlows([]);
      } catch (e) {
        if (!this.unsupported(e)) this.log(`flow logs: on close: ${(e as Error).message}`);
      }
    }).catch(() => {});
  }

  stop(): Promise<void> {
    return this.close();
  }

  /** Resolves when the work queued so far (a change event's refresh, a flush) is done. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** The interfaces captured now (for tests and logs). */
  get capturing(): readonly string[] {
    return this.captured ?? [];
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private fieldsOf(format: string): readonly FlowLogField[] | undefined {
    if (!this.formats.has(format)) {
      const parsed = parseLogFormat(format);
      this.formats.set(format, parsed.ok ? parsed.fields : undefined);
    }
    return this.formats.get(format);
  }

  /** Works out the coverage from the store; tells the firewall when the covered interfaces changed. */
  private async refresh(): Promise<void> {
    const coverage = new Map<string, ActiveLog[]>();
    // one query finds the regions that have flow logs at all; only those read their interfaces
    const withLogs = new Set(this.deps.store.collection(KINDS.flowLog).listAllRegions().map((r) => r.region));
    for (const region of this.regions) {
      if (!withLogs.has(region)) continue;
      for (const { flowLog, interfaceIds } of flowLogCoverage({ store: this.deps.store, region })) {
        if (flowLog.FlowLogStatus !== 'ACTIVE' || flowLog.LogDestinationType !== 'file') continue;
        const fields = this.fieldsOf(flowLog.LogFormat);
        if (!fields) {
          this.log(`flow logs: ${flowLog.FlowLogId}: its LogFormat cannot be read; nothing is written for it`);
          continue;
        }
        const active: ActiveLog = { record: flowLog, fields, file: flowLogFile(this.deps.dataDir, flowLog.LogDestination) };
        for (const id of interfaceIds) {
          const list = coverage.get(id);
          if (list) list.push(active);
          else coverage.set(id, [active]);
        }
      }
    }
    this.coverage = coverage;
    const wanted = [...coverage.keys()].sort();
    const have = this.captured;
    if (have && have.length === wanted.length && have.every((id, i) => id === wanted[i])) return;
    try {
      await this.firewall.captureFlows(wanted);
    } catch (e) {
      if (!this.unsupported(e)) throw e;
    }
    this.captured = wanted;
  }

  /**
   * Whether the error says the firewall cannot capture flows at all (a driver
   * that sees no packets): said once in the log, and the flow logs stay empty.
   */
  private unsupported(e: unknown): boolean {
    if (!(e instanceof FirewallError) || e.code !== 'unsupported') return false;
    if (!this.saidUnsupported) this.log(`flow logs: the '${this.firewall.name}' firewall cannot capture flows (${e.message}); flow log files stay empty`);
    this.saidUnsupported = true;
    return true;
  }

  /** Drains the firewall's flows into the files, one append per file. */
  private async drain(): Promise<void> {
    let flows: FlowRecord[];
    try {
      flows = await this.firewall.drainFlows();
    } catch (e) {
      if (this.unsupported(e)) return;
      throw e;
    }
    if (flows.length === 0) return;
    const byFile = new Map<string, string[]>();
    for (const flow of flows) {
      for (const log of this.coverage.get(flow.interfaceId) ?? []) {
        if (!admitsAction(log.record, flow.action)) continue;
        const line = renderFlowLogLine(log.fields, this.values(flow));
        const lines = byFile.get(log.file);
        if (lines) lines.push(line);
        else byFile.set(log.file, [line]);
      }
    }
    for (const [file, lines] of byFile) {
      try {
        await mkdir(dirname(file), { recursive: true });
        await appendFile(file, `${lines.join('\n')}\n`);
      } catch (e) {
        this.log(`flow logs: ${lines.length} record(s) for ${file} are lost: ${(e as Error).message}`);
      }
    }
  }

  private values(flow: FlowRecord) {
    return {
      version: 2,
      'account-id': this.deps.accountId,
      'interface-id': flow.interfaceId,
      srcaddr: flow.srcAddr,
      dstaddr: flow.dstAddr,
      srcport: flow.srcPort,
      dstport: flow.dstPort,
      protocol: flow.protocol,
      packets: flow.packets,
      bytes: flow.bytes,
      start: flow.start,
      end: flow.end,
      action: flow.action,
      'log-status': 'OK',
    } as const;
  }

  /**
   * Logs `firewall: <owner> <rule> +<delta> packets (total <packets>)` for each
   * counter that grew since the last reading. The first reading is the baseline
   * (counters survive a restart of the server); a counter that went down was
   * installed again and counts from zero.
   */
  private async logCounters(): Promise<void> {
    const counters = await this.firewall.counters();
    const next = new Map<string, number>();
    for (const c of counters) {
      const key = `${c.owner} ${c.rule}`;
      next.set(key, c.packets);
      if (!this.countersPrimed) continue;
      const before = this.counterBase.get(key) ?? 0;
      const delta = c.packets >= before ? c.packets - before : c.packets;
      if (delta > 0) this.log(`firewall: ${c.owner} ${c.rule} +${delta} packets (total ${c.packets})`);
    }
    this.counterBase = next;
    this.countersPrimed = true;
  }
}
