import type { DeviceFactory } from './types.js';

/**
 * Maps `compatible` strings to device factories. For a node, the first string in its
 * `compatible` list that has a factory wins (the list goes from most to least specific).
 */
export class DeviceRegistry {
  private readonly factories = new Map<string, DeviceFactory>();

  /** Register a factory; registering the same compatible twice is an error. */
  register(compatible: string, factory: DeviceFactory): this {
    if (this.factories.has(compatible)) throw new Error(`device registry: '${compatible}' is already registered`);
    this.factories.set(compatible, factory);
    return this;
  }

  /** Replace (or add) a factory, e.g. to substitute a test model. */
  override(compatible: string, factory: DeviceFactory): this {
    this.factories.set(compatible, factory);
    return this;
  }

  has(compatible: string): boolean {
    return this.factories.has(compatible);
  }

  get(compatible: string): DeviceFactory | null {
    return this.factories.get(compatible) ?? null;
  }

  /** The first compatible (in the node's order) that has a factory. */
  lookup(compatibles: readonly string[]): { compatible: string; factory: DeviceFactory } | null {
    for (const c of compatibles) {
      const f = this.factories.get(c);
      if (f !== undefined) return { compatible: c, factory: f };
    }
    return null;
  }

  /** Registered compatibles in registration order. */
  compatibles(): string[] {
    return [...this.factories.keys()];
  }

  /** A copy that can be extended without changing this registry. */
  clone(): DeviceRegistry {
    const r = new DeviceRegistry();
    for (const [c, f] of this.factories) r.factories.set(c, f);
    return r;
  }
}
