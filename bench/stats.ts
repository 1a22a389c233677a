/** Small statistics helpers shared by the benchmark suites. */

/** The q-quantile (0..1) of a list of numbers, by nearest rank on a sorted copy. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[index]!
}

/** The median of a list of numbers. */
export const median = (values: readonly number[]): number => quantile(values, 0.5)

/** Formats a number with a fixed count of decimals. */
export const fixed = (value: number, digits = 3): string => value.toFixed(digits)
