// Rates per kind and losses per cause over time, one canvas plot (uPlot).
// The series are those seen so far; a new kind or cause rebuilds the plot.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Health } from '../protocol.js';

const MAX_POINTS = 600;
const PALETTE = ['#4e79a7', '#59a14f', '#f28e2b', '#76b7b2', '#edc948', '#b07aa1', '#9c755f', '#bab0ac', '#86bcb6', '#8cd17d'];

export class RatePlot {
  private times: number[] = [];
  /** Series name -> values (events/s), aligned with times. */
  private series = new Map<string, number[]>();
  private plot: uPlot | undefined;
  private lastRatesAt = 0;
  private lastLost: Record<string, number> = {};

  constructor(private readonly box: HTMLElement) {}

  update(health: Health): void {
    if (health.ratesAtMs === this.lastRatesAt) return;
    this.lastRatesAt = health.ratesAtMs;
    const perSecond = (n: number) => (health.intervalMs > 0 ? (n * 1000) / health.intervalMs : 0);
    const values = new Map<string, number>();
    for (const [kind, n] of Object.entries(health.rates)) values.set(kind, perSecond(n));
    for (const [cause, n] of Object.entries(health.lost)) values.set(`lost: ${cause}`, perSecond(n - (this.lastLost[cause] ?? 0)));
    this.lastLost = { ...health.lost };
    const grew = [...values.keys()].some((name) => !this.series.has(name));
    for (const name of values.keys()) if (!this.series.has(name)) this.series.set(name, this.times.map(() => 0));
    this.times.push(health.ratesAtMs / 1000);
    for (const [name, list] of this.series) list.push(values.get(name) ?? 0);
    if (this.times.length > MAX_POINTS) {
      this.times.shift();
      for (const list of this.series.values()) list.shift();
    }
    if (grew || !this.plot) this.rebuild();
    else this.plot.setData(this.data());
  }

  private data(): uPlot.AlignedData {
    return [this.times, ...this.series.values()];
  }

  private rebuild() {
    this.plot?.destroy();
    const names = [...this.series.keys()];
    this.plot = new uPlot(
      {
        width: Math.max(300, this.box.clientWidth),
        height: 160,
        series: [
          {},
          ...names.map((name, i) =>
            name.startsWith('lost')
              ? { label: name, stroke: '#e15759', width: 2, dash: [6, 3] }
              : { label: name, stroke: PALETTE[i % PALETTE.length]!, width: 1.5 },
          ),
        ],
        axes: [{}, { label: 'per second' }],
        scales: { x: { time: true } },
      },
      this.data(),
      this.box,
    );
  }
}
