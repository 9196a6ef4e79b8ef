import type { DayFigures } from "../../core/reports.ts";

const WIDTH = 360;
const HEIGHT = 100;

/**
 * Sales and downloads per day as paired bars, drawn on the server as SVG (no script, no library).
 * The bars stretch to the card's width at a fixed height; the dates are HTML below them, so they
 * keep the page's text size on a phone and on a wide screen alike.
 */
export function DailyChart({ days, timeZone }: { days: DayFigures[]; timeZone: string }) {
  const busiest = Math.max(0, ...days.map((d) => Math.max(d.sales, d.downloads)));
  const max = Math.max(1, busiest);
  const slot = WIDTH / days.length;
  const bar = Math.max(1, slot / 2 - 1);
  const y = (value: number) => (HEIGHT * value) / max;
  const totalSales = days.reduce((n, d) => n + d.sales, 0);
  const totalDownloads = days.reduce((n, d) => n + d.downloads, 0);
  return (
    <figure class="card chart-card">
      <svg
        class="chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${totalSales} sales and ${totalDownloads} downloads over the last ${days.length} days`}
      >
        {days.map((d, i) => (
          <g>
            <title>{`${label(d.day)}: ${d.sales} sales, ${d.downloads} downloads`}</title>
            <rect
              class="bar-sales"
              x={i * slot}
              y={HEIGHT - y(d.sales)}
              width={bar}
              height={y(d.sales)}
            />
            <rect
              class="bar-downloads"
              x={i * slot + bar + 1}
              y={HEIGHT - y(d.downloads)}
              width={bar}
              height={y(d.downloads)}
            />
          </g>
        ))}
        <line
          class="axis"
          x1={0}
          x2={WIDTH}
          y1={HEIGHT}
          y2={HEIGHT}
          vector-effect="non-scaling-stroke"
        />
      </svg>
      <div class="chart-dates" aria-hidden="true">
        <span>{label(days[0]?.day ?? 0)}</span>
        <span>{label(days.at(-1)?.day ?? 0)}</span>
      </div>
      <figcaption class="muted">
        <span class="key sales">Sales</span> <span class="key downloads">Downloads</span> per day,
        {timeZone === "UTC" ? " UTC" : ` ${timeZone.replaceAll("_", " ")} time`}.{" "}
        {busiest ? `Busiest day: ${busiest}.` : "Nothing yet: the bars grow as you sell."}
      </figcaption>
    </figure>
  );
}

const label = (ms: number) =>
  new Date(ms).toLocaleDateString("en", { month: "short", day: "numeric", timeZone: "UTC" });
