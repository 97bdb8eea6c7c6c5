/**
 * fc.commands over one command arbitrary, with the per-command step of its generation done in
 * one place. fast-check 4's CommandsArbitrary draws each command through
 * `oneof(...commandArbs).map((c) => new CommandWrapper(c))`: a FrequencyArbitrary (the draw
 * choosing among the arbitraries, a depth counter around the command's own draw, a Value and a
 * context) and a MapArbitrary (the wrapper, another Value and context), three Values per command
 * with their clone checks. With one command arbitrary the choice is always the first, so
 * `FusedCommand` makes the same draws (the choice's nextInt included: it consumes the random
 * stream) and returns the same value and the same context (the MapArbitrary's, holding the
 * FrequencyArbitrary's), building one Value instead of three. Shrinking is left to the stock
 * arbitrary (FusedCommand.shrink is its shrink, on the same context), so shrinks are unchanged;
 * the wrapper is fast-check's own (its mapper), whose hasRan the shrinker reads.
 *
 * The fused step reads fast-check's internal fields (oneCommandArb, the MapArbitrary's arb and
 * mapper, the FrequencyArbitrary's warbs, context and methods); `fusedCommands` checks their shape
 * and returns the stock arbitrary untouched when it is not the expected one (another fast-check
 * version), and commands-arb.test.ts compares the two draw for draw.
 */
import fc from 'fast-check';

/** the parts of fast-check's FrequencyArbitrary (fc.oneof) the fused step uses */
interface FrequencyInternals {
  warbs: { arbitrary: fc.Arbitrary<unknown>; weight: number }[];
  context: { depth: number };
  totalWeight: number;
  mustGenerateFirst(): boolean;
  computeNegDepthBenefit(): number;
}

/** fast-check's MapArbitrary: `arb.map(mapper)` */
interface MapInternals {
  arb: unknown;
  mapper: (v: unknown) => unknown;
}

/** fast-check's CommandsArbitrary: its per-command arbitrary is a field */
interface CommandsInternals {
  oneCommandArb: fc.Arbitrary<unknown>;
}

class FusedCommand extends fc.Arbitrary<unknown> {
  constructor(
    /** the stock per-command arbitrary (oneof(cmd).map(wrap)): its shrink, its mapper */
    private readonly stock: fc.Arbitrary<unknown> & MapInternals,
    private readonly freq: FrequencyInternals,
    private readonly cmd: fc.Arbitrary<unknown>,
  ) {
    super();
  }

  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<unknown> {
    const f = this.freq;
    // FrequencyArbitrary.generate: the choice's draw (one arbitrary: index 0 whatever it draws),
    // none when the depth forces the first
    if (!f.mustGenerateFirst()) mrng.nextInt(f.computeNegDepthBenefit(), f.totalWeight - 1);
    // safeGenerateForIndex(mrng, 0): the command's draw one level deeper; no fallback random
    // generator is kept for index 0 (mustFallbackToFirstInShrink(0) is false)
    f.context.depth++;
    let v: fc.Value<unknown>;
    try {
      v = this.cmd.generate(mrng, biasFactor);
    } finally {
      f.context.depth--;
    }
    // a cloneable command would take MapArbitrary's other path (valueMapper): ours are not
    if (v.hasToBeCloned) throw new Error('FusedCommand: a cloneable command value');
    const value = v.value_;
    // mapIntoValue's context, then MapArbitrary.generate's Value around the wrapper
    const freqContext = { selectedIndex: 0, originalBias: biasFactor, originalContext: v.context, clonedMrngForFallbackFirst: null };
    return new fc.Value(this.stock.mapper(value), { originalValue: value, originalContext: freqContext });
  }

  canShrinkWithoutContext(value: unknown): value is unknown {
    return this.stock.canShrinkWithoutContext(value);
  }

  shrink(value: unknown, context: unknown): fc.Stream<fc.Value<unknown>> {
    return this.stock.shrink(value, context);
  }
}

/** whether `x` has fast-check's FrequencyArbitrary shape over the one arbitrary `cmd` */
function isFrequencyOf(x: unknown, cmd: fc.Arbitrary<unknown>): x is FrequencyInternals {
  const f = x as Partial<FrequencyInternals> | null;
  return (
    f !== null &&
    typeof f === 'object' &&
    Array.isArray(f.warbs) &&
    f.warbs.length === 1 &&
    f.warbs[0]!.arbitrary === cmd &&
    typeof f.totalWeight === 'number' &&
    typeof f.context === 'object' &&
    typeof f.context?.depth === 'number' &&
    typeof f.mustGenerateFirst === 'function' &&
    typeof f.computeNegDepthBenefit === 'function'
  );
}

/**
 * `fc.commands([cmd], constraints)` with the fused per-command step (FusedCommand): the same
 * values, random stream, contexts and shrinks. `fused: false` (or an unexpected fast-check
 * layout) gives the stock arbitrary.
 */
export function fusedCommands<Model extends object, Real>(cmd: fc.Arbitrary<fc.Command<Model, Real>>, constraints: fc.CommandsContraints, fused = true): fc.Arbitrary<Iterable<fc.Command<Model, Real>>> {
  const arb = fc.commands([cmd], constraints);
  if (!fused) return arb;
  const c = arb as unknown as Partial<CommandsInternals>;
  const one = c.oneCommandArb as (fc.Arbitrary<unknown> & Partial<MapInternals>) | undefined;
  if (one === undefined || typeof one.mapper !== 'function' || !isFrequencyOf(one.arb, cmd as fc.Arbitrary<unknown>)) return arb;
  c.oneCommandArb = new FusedCommand(one as fc.Arbitrary<unknown> & MapInternals, one.arb, cmd as fc.Arbitrary<unknown>);
  return arb;
}
