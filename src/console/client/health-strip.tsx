/** Health at a glance: small uPlot charts of the last hour, from the samples the server takes of its /metrics registry. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { HealthSample } from './api';

interface ChartSpec {
  title: string;
  unit: string;
  /**
   * The headline over the samples shown (the last hour, or since the start): a rate's total count, a
   * count's sum, the worst latency, or a level now.
   */
  headline: 'rate' | 'count' | 'worst' | 'now' | 'mean';
  /** For `mean`: the sum and the count a sample adds (the headline is their totals' ratio, with the count). */
  mean?: { sum: (s: HealthSample) => number; count: (s: HealthSample) => number };
  series: Array<{ label: string; value: (s: HealthSample) => number | null | undefined; stroke: string }>;
}

const CHARTS: ChartSpec[] = [
  { title: 'Webhooks', unit: '', headline: 'rate', series: [{ label: 'webhooks/s', value: (s) => s.webhooksPerSec, stroke: '#2563eb' }] },
  {
    title: 'Ack latency',
    unit: 'ms',
    headline: 'worst',
    series: [
      { label: 'p50', value: (s) => s.ackP50Ms ?? null, stroke: '#16a34a' },
      { label: 'p99', value: (s) => s.ackP99Ms ?? null, stroke: '#dc2626' },
    ],
  },
  { title: 'Turns', unit: '', headline: 'rate', series: [{ label: 'turns/s', value: (s) => s.turnsPerSec, stroke: '#7c3aed' }] },
  { title: 'Errors', unit: '', headline: 'count', series: [{ label: 'errors', value: (s) => s.errors, stroke: '#dc2626' }] },
  { title: 'Handoffs', unit: '', headline: 'count', series: [{ label: 'handoffs', value: (s) => s.handoffs, stroke: '#ea580c' }] },
  {
    title: 'Satisfaction',
    unit: '',
    headline: 'mean',
    mean: { sum: (s) => s.ratingSum ?? 0, count: (s) => s.ratings ?? 0 },
    series: [{ label: 'average rating', value: (s) => (s.ratings ? Math.round((s.ratingSum / s.ratings) * 100) / 100 : null), stroke: '#ca8a04' }],
  },
  {
    title: 'Backlog',
    unit: '',
    headline: 'now',
    series: [
      { label: 'events', value: (s) => s.backlog, stroke: '#0891b2' },
      { label: 'outbox', value: (s) => s.outboxBacklog, stroke: '#a16207' },
    ],
  },
];

export function HealthStrip({ samples }: { samples: HealthSample[] }) {
  return (
    <section class="health" aria-label="Health over the last hour (headlines: totals, the worst latency, the backlog now)">
      {CHARTS.map((spec) => (
        <Chart key={spec.title} spec={spec} samples={samples} />
      ))}
    </section>
  );
}

/** The headline figure of each series over the samples shown, and what it is ("last hour", "now"). */
export function headline(spec: ChartSpec, samples: HealthSample[]): { text: string; over: string } {
  if (samples.length === 0) return { text: '–', over: '' };
  const span = samples.at(-1)!.t - samples[0]!.t + intervalOf(samples, 0);
  const over = spec.headline === 'now' ? 'now' : span >= 3_500_000 ? 'last hour' : `last ${Math.max(1, Math.round(span / 60_000))} min`;
  const round = (v: number) => `${Math.round(v * 100) / 100}`;
  if (spec.headline === 'mean' && spec.mean) {
    const count = samples.reduce((n, x) => n + spec.mean!.count(x), 0);
    const sum = samples.reduce((n, x) => n + spec.mean!.sum(x), 0);
    return { text: count === 0 ? '–' : `${round(sum / count)}/5 (${count} rated)`, over };
  }
  const text = spec.series
    .map((series) => {
      const values = samples.map((sample, i) => ({ v: series.value(sample), i }));
      if (spec.headline === 'now') {
        const v = values.at(-1)!.v;
        return v === null || v === undefined ? '–' : round(v);
      }
      const known = values.filter((x): x is { v: number; i: number } => typeof x.v === 'number');
      if (known.length === 0) return '–';
      if (spec.headline === 'worst') return round(Math.max(...known.map((x) => x.v)));
      if (spec.headline === 'count') return String(Math.round(known.reduce((sum, x) => sum + x.v, 0)));
      // A rate per second over each sample's interval: the count it stands for.
      return String(Math.round(known.reduce((sum, x) => sum + (x.v * intervalOf(samples, x.i)) / 1000, 0)));
    })
    .join(' / ');
  return { text, over };
}

/** The interval a sample covers (ms): since the previous sample, or the next one's for the first. */
function intervalOf(samples: HealthSample[], i: number): number {
  if (samples.length < 2) return 5000;
  return i > 0 ? samples[i]!.t - samples[i - 1]!.t : samples[1]!.t - samples[0]!.t;
}

function Chart({ spec, samples }: { spec: ChartSpec; samples: HealthSample[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data = (): uPlot.AlignedData => [samples.map((s) => s.t / 1000), ...spec.series.map((series) => samples.map((s) => series.value(s) ?? null))];

  useEffect(() => {
    if (!box.current) return;
    plot.current = new uPlot(
      {
        width: 170,
        height: 54,
        legend: { show: false },
        cursor: { show: false },
        // From the first sample kept (at most an hour ago) to the last: a young endpoint's few samples fill the chart.
        scales: {
          x: { time: true, range: (_u, min, max) => (max > min ? [min, max] : [min - 30, min + 30]) },
          y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
        },
        axes: [{ show: false }, { show: false }],
        series: [{}, ...spec.series.map((s, i) => ({ stroke: s.stroke, width: 1.5, points: { show: false }, spanGaps: false, ...(i === 0 ? { fill: `${s.stroke}22` } : {}) }))],
      },
      data(),
      box.current,
    );
    return () => plot.current?.destroy();
  }, []);

  useEffect(() => {
    plot.current?.setData(data());
  }, [samples]);
  const figure = headline(spec, samples);

  return (
    <figure class="chart">
      <figcaption>
        <span>
          {spec.title} {figure.over && <small class="muted">{spec.headline === 'worst' ? `worst p50 / p99, ${figure.over}` : figure.over}</small>}
        </span>
        <strong data-headline={spec.title}>
          {figure.text}
          {spec.unit && <small> {spec.unit}</small>}
        </strong>
      </figcaption>
      <div ref={box} class="plot" />
    </figure>
  );
}
