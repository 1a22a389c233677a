/**
 * CPU time of another process, read from /proc/<pid>/stat (user + system, all threads, in
 * microseconds at the kernel's clock-tick resolution, 10 ms on Linux). The capacity benchmark
 * reads it for every target alike, our servers and Portkey's gateway, so no target measures itself.
 */
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc times (USER_HZ, 100 on every Linux architecture Node runs on). */
const TICKS_PER_SECOND = 100

/** User plus system CPU time of process `pid` so far, in microseconds. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const userTicks = Number(fields[11])
  const systemTicks = Number(fields[12])
  return ((userTicks + systemTicks) * 1_000_000) / TICKS_PER_SECOND
}
