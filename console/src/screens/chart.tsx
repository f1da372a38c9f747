import { BarController, BarElement, CategoryScale, Chart, type ChartConfiguration, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from "chart.js";
import { useEffect, useRef } from "preact/hooks";

// Only the pieces the console draws with (tree-shaken): bars, lines, their scales, legend and tooltip.
Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);

/** The console's colours, read from its CSS variables (light or dark). */
export function palette() {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    fg: v("--fg", "#1b1f24"),
    muted: v("--muted", "#5b6470"),
    line: v("--line", "#d8dde3"),
    accent: v("--accent", "#2457d6"),
    ok: v("--ok", "#137333"),
    bad: v("--bad", "#b3261e"),
    warn: "#c77c02",
  };
}

/**
 * One Chart.js chart on a canvas, redrawn when `config` changes. The canvas is hidden from screen readers
 * (`label` names it); every chart has its numbers in a table next to it. Chart.js sizes the canvas through
 * the CSSOM, which the page's Content-Security-Policy allows.
 */
export function ChartCanvas({ config, label }: { config: ChartConfiguration; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const p = palette();
    Chart.defaults.color = p.muted;
    Chart.defaults.borderColor = p.line;
    const chart = new Chart(canvas.current, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } } as ChartConfiguration);
    return () => chart.destroy();
  }, [config]);
  return (
    <div class="chart">
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
