// Deterministic pseudo-random numbers for the case generator.
//
// Every case draws from its own stream, derived from (seed, case index, purpose), so case 17 of
// seed 1 is the same whether it runs alone (--case 17) or inside a run of 2000.

/** Mixes a seed, a case index and a stream number into one 32-bit state (murmur3 finaliser). */
export function deriveSeed(seed, index, stream) {
  let h = (seed >>> 0) ^ Math.imul(index + 1, 0x9e3779b9) ^ Math.imul(stream + 1, 0x7feb352d);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: a 32-bit state generator, fast and good enough for test-case generation. */
export class Rng {
  constructor(state) {
    this.state = state >>> 0;
  }

  /** Returns a float in [0, 1). */
  next() {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Returns a 32-bit unsigned integer. */
  uint32() {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** Returns an integer in [min, max], both inclusive. */
  int(min, max) {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability) {
    return this.next() < probability;
  }

  pick(items) {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Picks from `[[weight, value], ...]` with probability proportional to weight. */
  weighted(choices) {
    const total = choices.reduce((sum, [weight]) => sum + weight, 0);
    let point = this.next() * total;
    for (const [weight, value] of choices) {
      point -= weight;
      if (point < 0) {
        return value;
      }
    }
    return choices[choices.length - 1][1];
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle(items) {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
