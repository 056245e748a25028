// Log-linear latency histogram (ns), the same as bench/c/hist.h so the C and
// kmon figures are bucketed identically: exact below 64 ns, then 64 linear
// sub-buckets per power of two (a percentile is within ~1.6%).
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
const BUCKETS = SUB * 40;

export interface LatencySummary {
  count: number;
  p50_ns: number;
  p99_ns: number;
  p999_ns: number;
  max_ns: number;
  negative: number;
  /** Where the time of the events at or above the p99 went (src/latency-probe.ts; the C consumer: cpu_wait_ns only, with --probe). */
  where?: WhereP99;
  /** kmon: V8 GC pauses while events flowed: how many, their total and the longest (ns). */
  gc?: { count: number; total_ns: number; max_ns: number };
}

/** Mean ns per event of the events at or above the p99, by cause (see src/latency-probe.ts). */
export interface WhereP99 {
  events: number;
  latency_ns: number;
  /** Runnable but not running; only in runs that read the scheduler's figures (probe). */
  cpu_wait_ns?: number;
  gc_ns?: number;
  js_ns?: number;
  loop_ns?: number;
}

export class Histogram {
  private readonly n = new Float64Array(BUCKETS);
  count = 0;
  max = 0;
  negative = 0;

  add(v: number): void {
    if (v < 0) {
      this.negative++;
      v = 0;
    }
    this.n[index(v)]!++;
    this.count++;
    if (v > this.max) this.max = v;
  }

  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.floor(q * (this.count - 1)) + 1;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.n[i]!;
      if (seen >= rank) return value(i);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50_ns: this.quantile(0.5),
      p99_ns: this.quantile(0.99),
      p999_ns: this.quantile(0.999),
      max_ns: this.max,
      negative: this.negative,
    };
  }
}

function index(v: number): number {
  if (v < SUB) return Math.floor(v);
  const s = Math.floor(Math.log2(v)) - SUB_BITS;
  // Math.log2 can round up just below a power of two: keep v >> s in [SUB, 2 * SUB).
  let shift = s;
  let m = Math.floor(v / 2 ** shift);
  if (m >= 2 * SUB) {
    shift++;
    m = Math.floor(v / 2 ** shift);
  } else if (m < SUB) {
    shift--;
    m = Math.floor(v / 2 ** shift);
  }
  return Math.min(shift * SUB + m, BUCKETS - 1);
}

function value(i: number): number {
  if (i < SUB) return i;
  const s = Math.floor(i / SUB) - 1;
  const m = (i % SUB) + SUB;
  return m * 2 ** s + Math.floor(2 ** s / 2);
}
