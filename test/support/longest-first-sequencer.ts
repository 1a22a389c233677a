/**
 * The order the test files start in: the isolated project's files, then the shared project's,
 * each longest first. Longest first keeps a long file from starting late and finishing alone
 * after the rest; one project after the other keeps the shared workers, which vitest keeps (with
 * their module cache) only while the next file in the queue is a shared one too.
 *
 * That is vitest's own order when it has the durations of the last run. Without them (a fresh
 * clone, as on CI) vitest orders by file size, and would start the model refit, a short file and
 * by far the longest of the suite, among the last of its project; so a file vitest has no
 * duration of takes its estimate from the list below, or counts as short.
 */
import { relative, sep } from 'node:path'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Rough durations (ms, two-core machine, whole suite running) of the files that take seconds.
 * Only their order matters, and only until vitest has measured them.
 */
const ESTIMATED_MS: Readonly<Record<string, number>> = {
  'test/scanner/shipped-model.test.ts': 70_000,
  'test/operator/readme.test.ts': 27_000,
  'test/operator/serve.test.ts': 21_000,
  'test/scanner/decision-fingerprint.test.ts': 14_000,
  'test/fhe/key-manager-evaluator.test.ts': 9_500,
  'test/conformance/forwarding.test.ts': 8_800,
  'test/hardening/bounded-bodies.test.ts': 8_700,
  'test/redis/multi-instance.test.ts': 7_900,
  'test/scanner/linear-time.test.ts': 7_600,
  'test/redis/shared-fhe-keys.test.ts': 7_300,
  'test/redis/shared-limits.test.ts': 6_400,
  'test/examples/gateway-example.test.ts': 5_000,
  'test/redis/state-store-contract.test.ts': 4_900,
  'test/hardening/privacy-accounting.test.ts': 4_800,
  'test/redis/shared-breakers.test.ts': 4_600,
  'test/hardening/fhe-key-binding.test.ts': 4_400,
  'test/fhe/service-http.test.ts': 4_200,
  'test/gateway/parameter-fates.test.ts': 4_200,
  'test/hardening/sse-spec.test.ts': 3_900,
  'test/conformance/batch-frames.test.ts': 3_700,
  'test/conformance/hybrid-agreement.test.ts': 3_500,
  'test/conformance/upstream-failures.test.ts': 3_200,
  'test/telemetry/stream-span-soak.test.ts': 3_000,
}

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root
    const duration = (spec: TestSpecification): number =>
      this.ctx.cache.getTestSpecificationResult(spec)?.duration ??
      ESTIMATED_MS[relative(root, spec.moduleId).split(sep).join('/')] ??
      0
    const keyed = files.map((spec) => ({
      spec,
      isolated: spec.project.config.isolate,
      duration: duration(spec),
    }))
    keyed.sort(
      (left, right) =>
        left.spec.project.config.sequence.groupOrder - right.spec.project.config.sequence.groupOrder ||
        Number(right.isolated) - Number(left.isolated) ||
        right.duration - left.duration,
    )
    return keyed.map(({ spec }) => spec)
  }
}
