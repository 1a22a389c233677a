/**
 * The registry in the OpenMetrics 1.0 text format, for scrapers that ask for it with
 * `Accept: application/openmetrics-text` (Prometheus does, and needs it for exemplars and
 * native `_created` handling). prom-client's own OpenMetrics mode appends `_total` to counter
 * names that already end in it, so the exposition is written here from the registry's values:
 * counter families are named without `_total` and their samples with it, label values and help
 * are escaped as the format says, and the text ends with `# EOF`.
 * @see https://github.com/OpenObservability/OpenMetrics/blob/main/specification/OpenMetrics.md
 */
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client'

/** The content type of the exposition. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

function labelText(labels: Record<string, string | number | undefined>): string {
  const parts = Object.entries(labels)
    .filter(([, value]) => value !== undefined)
    .map(
      ([name, value]) =>
        `${name}="${escapeLabel(typeof value === 'number' ? number(value) : String(value))}"`,
    )
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

/** A sample's name: counters' carry `_total`, histograms' their `_bucket`, `_sum` or `_count`. */
function sampleName(family: string, type: string, value: MetricValue<string>): string {
  const name = (value as { metricName?: string }).metricName
  if (type === 'counter') return `${family}_total`
  return name ?? family
}

/** Writes the registry as OpenMetrics text. */
export async function openMetricsText(registry: Registry): Promise<string> {
  const metrics = (await registry.getMetricsAsJSON()) as MetricObjectWithValues<MetricValue<string>>[]
  let text = ''
  for (const metric of metrics) {
    const type = String(metric.type)
    const family = type === 'counter' ? metric.name.replace(/_total$/, '') : metric.name
    text += `# TYPE ${family} ${type === 'summary' || type === 'histogram' || type === 'counter' || type === 'gauge' ? type : 'unknown'}\n`
    text += `# HELP ${family} ${escapeHelp(metric.help)}\n`
    for (const value of metric.values) {
      const labels = { ...(value.labels as Record<string, string | number | undefined>) }
      text += `${sampleName(family, type, value)}${labelText(labels)} ${number(value.value)}\n`
    }
  }
  return `${text}# EOF\n`
}
