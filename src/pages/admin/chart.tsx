import type { DayFigures } from "../../core/reports.ts";

const WIDTH = 360;
const HEIGHT = 120;
const AXIS = 16;

/** Sales and downloads per day as paired bars, drawn on the server as SVG (no script, no library). */
export function DailyChart({ days }: { days: DayFigures[] }) {
  const busiest = Math.max(0, ...days.map((d) => Math.max(d.sales, d.downloads)));
  const max = Math.max(1, busiest);
  const slot = WIDTH / days.length;
  const bar = Math.max(1, slot / 2 - 1);
  const y = (value: number) => ((HEIGHT - AXIS) * value) / max;
  const totalSales = days.reduce((n, d) => n + d.sales, 0);
  const totalDownloads = days.reduce((n, d) => n + d.downloads, 0);
  return (
    <figure class="card">
      <svg
        class="chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`${totalSales} sales and ${totalDownloads} downloads over the last ${days.length} days`}
      >
        {days.map((d, i) => (
          <g>
            <title>{`${label(d.day)}: ${d.sales} sales, ${d.downloads} downloads`}</title>
            <rect
              class="bar-sales"
              x={i * slot}
              y={HEIGHT - AXIS - y(d.sales)}
              width={bar}
              height={y(d.sales)}
            />
            <rect
              class="bar-downloads"
              x={i * slot + bar + 1}
              y={HEIGHT - AXIS - y(d.downloads)}
              width={bar}
              height={y(d.downloads)}
            />
          </g>
        ))}
        <text x={0} y={HEIGHT - 3}>
          {label(days[0]?.day ?? 0)}
        </text>
        <text x={WIDTH} y={HEIGHT - 3} text-anchor="end">
          {label(days.at(-1)?.day ?? 0)}
        </text>
      </svg>
      <figcaption class="muted">
        <span class="key sales">Sales</span> <span class="key downloads">Downloads</span> per day,
        UTC. {busiest ? `Busiest day: ${busiest}.` : "Nothing yet: the bars grow as you sell."}
      </figcaption>
    </figure>
  );
}

const label = (ms: number) => new Date(ms).toISOString().slice(5, 10);
