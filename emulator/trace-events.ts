/**
 * The trace catalogue: every trace event kind the emulator emits, declared once (as QEMU's
 * trace-events files declare theirs). `Tracer.emit` is typed against it (an undeclared kind
 * or a field of the wrong type does not compile), and the Perfetto exporter and importer
 * (emulator/trace.ts), `vfio-arm-emu trace summarize` (tools/cli/report.ts) and the event
 * table of docs/TRACE.md (checked by emulator/trace-events.test.ts) all read this list.
 *
 * Each kind has:
 *  - `src`: which component emits it, and so what the event's `src` names (a device's node
 *    name such as `2c0a0000.dma`, `kernel`, `irq`, ...);
 *  - `shape`: how it is drawn and summarised:
 *      `instant`     a point in time;
 *      `span-start`  it has `dur` and is emitted when the activity STARTS (`t` .. `t + dur`),
 *      `span-end`    it has `dur` and is emitted when the activity ENDS (`t - dur` .. `t`),
 *      `counter`     a level on a counter track (`track` names the field holding the
 *                    track's name, `value` the field holding the value);
 *  - `fields`: name -> type and meaning (`optional` fields may be absent);
 *  - `notable`: summaries list each occurrence (faults, storms, guest errors).
 */
export type TraceFieldType = 'number' | 'string' | 'boolean' | 'number|null' | 'string|null' | 'number|string';

export interface TraceFieldDecl {
  readonly type: TraceFieldType;
  readonly doc: string;
  readonly optional?: true;
}

export type TraceShape = 'instant' | 'span-start' | 'span-end' | 'counter';

export interface TraceEventDecl {
  /** emitting component */
  readonly src: string;
  readonly shape: TraceShape;
  readonly doc: string;
  readonly fields: Readonly<Record<string, TraceFieldDecl>>;
  /** counters: the field naming the track and the field holding the value */
  readonly counter?: { readonly track: string; readonly value: string; readonly prefix: string };
  /** listed one by one by `trace summarize` */
  readonly notable?: true;
}

const n = (doc: string): TraceFieldDecl => ({ type: 'number', doc });
const s = (doc: string): TraceFieldDecl => ({ type: 'string', doc });

export const TRACE_EVENTS = {
  seed: {
    src: 'machine', shape: 'instant', doc: 'first event of every run: the PRNG seed and the board file (emulator/machine.ts)',
    fields: { seed: n('PRNG seed'), board: s('board file name') },
  },
  'irq-line': {
    src: 'irq', shape: 'counter', doc: 'an IRQ line changed level (emulator/irq.ts); a pulse is a rise and a fall at the same time',
    fields: { line: s('line name (`<device>:<output>`, `<gic>.irq-out`)'), level: n('new level, 0 or 1') },
    counter: { track: 'line', value: 'level', prefix: 'irq ' },
  },
  'gic-input': {
    src: 'gic', shape: 'instant', doc: 'a GIC input changed level (devices/gic/gic.ts)',
    fields: { id: n('interrupt ID'), level: n('0 or 1') },
  },
  'gic-ack': {
    src: 'gic', shape: 'instant', doc: 'GICC_IAR read acknowledged an interrupt',
    fields: { id: n('interrupt ID'), prio: n('its priority (the new running priority)') },
  },
  'gic-eoi': {
    src: 'gic', shape: 'instant', doc: 'GICC_EOIR written for an implemented ID',
    fields: { id: n('interrupt ID') },
  },
  'gic-spurious': {
    src: 'gic', shape: 'instant', doc: 'GICC_IAR read with nothing signallable: 1023',
    fields: {},
  },
  'smmu-walk': {
    src: 'smmu', shape: 'span-start', doc: 'a TLB miss walked the page tables; emitted when the lookup starts, `dur` is the walk cost the master pays after it',
    fields: {
      sid: n('stream ID'), va: n('input address'), cb: n('context bank (-1: none)'), level: n('level the walk ended at'),
      ok: n('1 translated, 0 faulted'), pa: n('output address (-1 when faulted)'),
    },
  },
  'smmu-fault': {
    src: 'smmu', shape: 'instant', notable: true, doc: 'a context or global fault was recorded (FSR / sGFSR)',
    fields: {
      scope: s('`context` or `global`'), type: s('fault type (translation, permission, ...)'), sid: n('stream ID'), va: n('faulting address'),
      cb: n('context bank (-1: global)'), level: n('walk level (0 for global faults)'), multi: n('1 when the fault register already held a fault'),
    },
  },
  'smmu-resume': {
    src: 'smmu', shape: 'instant', notable: true, doc: 'a transaction held in stall mode (SCTLR.CFCFG) was resolved by CBn_RESUME: retried, terminated, or terminated as RAZ/WI (SCTLR.CFRE = 0)',
    fields: {
      cb: n('context bank'), sid: n('stream ID'), va: n('input address'), outcome: s('`retry`, `terminate` or `razwi`'), stalledNs: n('how long it was held'),
    },
  },
  'pl330-dbg': {
    src: 'pl330', shape: 'instant', doc: 'an instruction issued through DBGINST0/1 (DBGCMD)',
    fields: { thread: n('thread: channel number, -1 the manager'), op: n('first instruction byte'), allowed: { type: 'boolean', doc: 'whether the debug interface accepts it' } },
  },
  'pl330-fault': {
    src: 'pl330', shape: 'instant', notable: true, doc: 'a DMA thread faulted',
    fields: { thread: n('thread'), pc: n('program counter'), ftr: n('fault type register value') },
  },
  'pl330-insn': {
    src: 'pl330', shape: 'instant', doc: 'an instruction starts executing (only with the `traceInstructions` configuration)',
    fields: { thread: n('thread'), pc: n('program counter'), op: n('first instruction byte'), dis: { type: 'string', optional: true, doc: 'disassembly' } },
  },
  'pl330-xfer': {
    src: 'pl330', shape: 'span-end', doc: 'a channel thread ended (DMAEND or kill); emitted at the end, `dur` since its DMAGO',
    fields: { ch: n('channel'), loaded: n('bytes loaded'), stored: n('bytes stored'), insns: n('instructions executed') },
  },
  'dma-start': {
    src: 'test-dma', shape: 'instant', doc: 'the test DMA device started a copy (devices/testdev/test-dma.ts)',
    fields: { src: n('source address'), dst: n('destination address'), len: n('bytes') },
  },
  'dma-done': {
    src: 'test-dma', shape: 'instant', doc: 'the test DMA device finished a copy',
    fields: { bytes: n('bytes copied') },
  },
  'dma-error': {
    src: 'test-dma', shape: 'instant', notable: true, doc: 'the test DMA device stopped on a bus error',
    fields: { addr: n('address of the failed access'), status: n('bus status (negative BUS_*)'), bytes: n('bytes copied before it') },
  },
  printk: {
    src: 'kernel', shape: 'instant', doc: 'a kernel log line (kernel-model/base/klog.ts)',
    fields: { level: s('log level (err, warn, info, ...)'), msg: s('the line as dmesg prints it') },
  },
  'irq-take': {
    src: 'kernel', shape: 'instant', doc: 'the IRQ entry took an interrupt (kernel-model/irq/core.ts)',
    fields: { irq: n('Linux IRQ number (virq)'), hwirq: n('GIC interrupt ID') },
  },
  'irq-handled': {
    src: 'kernel', shape: 'instant', doc: 'the handlers of an interrupt returned',
    fields: { irq: n('virq'), ret: n('IRQ_NONE 0 / IRQ_HANDLED 1 / IRQ_WAKE_THREAD 2 (OR of the handlers)') },
  },
  'irq-storm': {
    src: 'kernel', shape: 'instant', notable: true, doc: 'the storm detector stopped the run',
    fields: { irq: n('virq'), hwirq: n('GIC interrupt ID'), entries: n('takes in the streak'), windowNs: n('virtual time the streak lasted') },
  },
  exit: {
    src: 'unicorn', shape: 'instant', doc: 'a Unicorn guest thread exited (src `cpu.<thread>`; emulator/cpu/unicorn/thread.ts)',
    fields: {
      status: n('exit status as a shell shows it'), insns: n('instructions executed'), sig: { type: 'string|null', doc: 'terminating signal' },
      addr: { type: 'number|null', doc: 'faulting address' }, pc: { type: 'number|null', doc: 'faulting pc' },
    },
  },
  syscall: {
    src: 'unicorn', shape: 'instant', doc: 'a Unicorn guest thread made a system call',
    fields: {
      nr: n('syscall number (EABI)'), a0: n('r0'), a1: n('r1'), a2: n('r2'), ret: { type: 'number|string', doc: 'result, or `block` when the call parked the thread' },
      insns: n('instructions executed so far'),
    },
  },
  'guest-error': {
    src: 'device', shape: 'instant', notable: true,
    doc: 'a guest access a register map does not accept (emulator/regmap.ts): src is the device (or its interface); the bus answer follows the hardware (RAZ/WI or slave error)',
    fields: {
      what: s('unmapped-read, unmapped-write, read-only-write, write-only-read or bad-size'), off: n('offset in the device region'),
      reg: { type: 'string|null', doc: 'register name, null when nothing decodes' }, value: { type: 'number|null', doc: 'value written (null for reads)' },
    },
  },
} as const satisfies Record<string, TraceEventDecl>;

export type TraceKind = keyof typeof TRACE_EVENTS;

type TypeOf<T> = T extends 'number' ? number
  : T extends 'string' ? string
  : T extends 'boolean' ? boolean
  : T extends 'number|null' ? number | null
  : T extends 'string|null' ? string | null
  : T extends 'number|string' ? number | string
  : never;

type Decls<K extends TraceKind> = (typeof TRACE_EVENTS)[K]['fields'];
type Required_<F> = { -readonly [N in keyof F as F[N] extends { optional: true } ? never : N]: F[N] extends { type: infer T } ? TypeOf<T> : never };
type Optional_<F> = { -readonly [N in keyof F as F[N] extends { optional: true } ? N : never]?: F[N] extends { type: infer T } ? TypeOf<T> : never };

/** The fields an event of kind K carries (what `Tracer.emit` accepts). */
export type TraceFieldsOf<K extends TraceKind> = Required_<Decls<K>> & Optional_<Decls<K>>;

/** The declaration of `kind`, or undefined for a kind the catalogue does not know (old or foreign traces). */
export function traceEventDecl(kind: string): TraceEventDecl | undefined {
  return Object.prototype.hasOwnProperty.call(TRACE_EVENTS, kind) ? (TRACE_EVENTS as Record<string, TraceEventDecl>)[kind] : undefined;
}

export const TRACE_KINDS: readonly TraceKind[] = Object.keys(TRACE_EVENTS) as TraceKind[];

function typeOk(t: TraceFieldType, v: unknown): boolean {
  switch (t) {
    case 'number': return typeof v === 'number';
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'number|null': return v === null || typeof v === 'number';
    case 'string|null': return v === null || typeof v === 'string';
    case 'number|string': return typeof v === 'number' || typeof v === 'string';
  }
}

/**
 * Problems of one event against the catalogue (tests, trace readers): an undeclared kind, a
 * missing or undeclared field, a field of the wrong type, `dur` on a kind without a span
 * shape or its absence on a span. Empty when the event conforms.
 */
export function checkTraceEvent(e: { kind: string; dur?: number; f: Record<string, unknown> }): string[] {
  const d = traceEventDecl(e.kind);
  if (d === undefined) return [`kind '${e.kind}' is not in the trace catalogue`];
  const out: string[] = [];
  const span = d.shape === 'span-start' || d.shape === 'span-end';
  if (span !== (e.dur !== undefined)) out.push(`${e.kind}: ${span ? 'missing dur' : 'unexpected dur'}`);
  for (const [name, fd] of Object.entries(d.fields)) {
    if (!(name in e.f)) {
      if (fd.optional !== true) out.push(`${e.kind}: missing field ${name}`);
    } else if (!typeOk(fd.type, e.f[name])) out.push(`${e.kind}: field ${name} is not ${fd.type}`);
  }
  for (const name of Object.keys(e.f)) if (!(name in d.fields)) out.push(`${e.kind}: undeclared field ${name}`);
  return out;
}

/** Start and end (ns) of an event as it is drawn: spans by their shape, others at `t`. */
export function traceExtent(e: { kind: string; t: number; dur?: number }): { start: number; end: number } {
  const dur = e.dur ?? 0;
  const d = traceEventDecl(e.kind);
  if (d?.shape === 'span-start') return { start: e.t, end: e.t + dur };
  return { start: e.t - dur, end: e.t }; // span-end, and unknown kinds with a duration (as before)
}

/** The catalogue as a Markdown table (docs/TRACE.md holds it between markers; a test keeps it current). */
export function traceCatalogueMarkdown(): string {
  const rows = ['| kind | src | shape | fields | meaning |', '|---|---|---|---|---|'];
  for (const k of TRACE_KINDS) {
    const d: TraceEventDecl = TRACE_EVENTS[k];
    const fields = Object.entries(d.fields).map(([name, f]) => `\`${name}\`${f.optional ? '?' : ''}: ${f.type} (${f.doc})`).join('; ') || '-';
    rows.push(`| \`${k}\` | ${d.src} | ${d.shape}${d.notable ? ', notable' : ''} | ${fields.replace(/\|/g, '\\|')} | ${d.doc.replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}
