/** Types of `parse-prometheus-text-format`, which ships none: the metric families it parses. */
declare module 'parse-prometheus-text-format' {
  export interface MetricFamily {
    name: string
    help: string
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
    metrics: Array<Record<string, unknown>>
  }
  export default function parsePrometheusTextFormat(text: string): MetricFamily[]
}
