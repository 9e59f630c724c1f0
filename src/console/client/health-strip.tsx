/** Health at a glance: small uPlot charts of the last hour, from the samples the server takes of its /metrics registry. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { HealthSample } from './api';

interface ChartSpec {
  title: string;
  unit: string;
  series: Array<{ label: string; value: (s: HealthSample) => number | null | undefined; stroke: string }>;
}

const CHARTS: ChartSpec[] = [
  { title: 'Webhooks', unit: '/s', series: [{ label: 'webhooks/s', value: (s) => s.webhooksPerSec, stroke: '#2563eb' }] },
  {
    title: 'Ack latency',
    unit: 'ms',
    series: [
      { label: 'p50', value: (s) => s.ackP50Ms ?? null, stroke: '#16a34a' },
      { label: 'p99', value: (s) => s.ackP99Ms ?? null, stroke: '#dc2626' },
    ],
  },
  { title: 'Turns', unit: '/s', series: [{ label: 'turns/s', value: (s) => s.turnsPerSec, stroke: '#7c3aed' }] },
  { title: 'Errors', unit: '', series: [{ label: 'errors', value: (s) => s.errors, stroke: '#dc2626' }] },
  { title: 'Handoffs', unit: '', series: [{ label: 'handoffs', value: (s) => s.handoffs, stroke: '#ea580c' }] },
  {
    title: 'Backlog',
    unit: '',
    series: [
      { label: 'events', value: (s) => s.backlog, stroke: '#0891b2' },
      { label: 'outbox', value: (s) => s.outboxBacklog, stroke: '#a16207' },
    ],
  },
];

export function HealthStrip({ samples }: { samples: HealthSample[] }) {
  return (
    <section class="health" aria-label="Health over the last hour">
      {CHARTS.map((spec) => (
        <Chart key={spec.title} spec={spec} samples={samples} />
      ))}
    </section>
  );
}

function latest(spec: ChartSpec, samples: HealthSample[]): string {
  const last = samples.at(-1);
  if (!last) return '–';
  return spec.series
    .map((s) => {
      const v = s.value(last);
      return v === null || v === undefined ? '–' : `${Math.round(v * 100) / 100}`;
    })
    .join(' / ');
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
        // Since the first sample kept (at most an hour ago), and never less than the last five minutes.
        scales: {
          x: { time: true, range: (_u, min) => [Math.min(min, Date.now() / 1000 - 300), Date.now() / 1000] },
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

  return (
    <figure class="chart">
      <figcaption>
        <span>{spec.title}</span>
        <strong>
          {latest(spec, samples)}
          {spec.unit && <small> {spec.unit}</small>}
        </strong>
      </figcaption>
      <div ref={box} class="plot" />
    </figure>
  );
}
