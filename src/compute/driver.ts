/**
 * What every runtime driver shares, whatever it drives (compute/, network/,
 * storage/): a probe that says whether this host can run it, an event stream
 * for changes nobody asked for, and a registry of drivers by name.
 *
 * Drivers import nothing from api/, resources/ or reconcile/: they get
 * prepared host resources and EC2 ids only as names.
 */
import type { Config } from '../config.js';

/** Whether this host can run a driver, and if not, why (shown to the operator at start-up). */
export type ProbeResult = { ok: true } | { ok: false; reason: string };

/** Stops a subscription. */
export type Unsubscribe = () => void;

/** A driver's event stream: listeners are called synchronously, in subscription order. */
export type EventStream<E> = (listener: (event: E) => void) => Unsubscribe;

/** Keeps listeners; a throwing listener does not stop the others. */
export class Emitter<E> {
  private readonly listeners = new Set<(event: E) => void>();

  readonly subscribe: EventStream<E> = (listener) => {
    const l = (e: E) => listener(e);
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  emit(event: E): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // a listener's failure is its own business
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}

export type Factory<T> = (config: Config) => T;

/** Drivers of one interface by name. */
export class DriverMap<T> {
  private readonly factories = new Map<string, Factory<T>>();

  constructor(
    /** what the drivers are, for error messages ("hypervisor", "fabric"…) */
    readonly kind: string,
    entries: Iterable<[string, Factory<T>]> = [],
  ) {
    for (const [name, f] of entries) this.factories.set(name, f);
  }

  names(): string[] {
    return [...this.factories.keys()].sort();
  }

  /** Adds (or replaces) a driver. */
  register(name: string, factory: Factory<T>): void {
    this.factories.set(name, factory);
  }

  /** The driver `name`; an unknown name is a configuration error. */
  create(name: string, config: Config): T {
    const factory = this.factories.get(name);
    if (!factory) throw new Error(`unknown ${this.kind} driver '${name}' (known: ${this.names().join(', ')})`);
    return factory(config);
  }
}
