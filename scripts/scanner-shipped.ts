/**
 * The shipped model, fitted from the data folder exactly as `scripts/train-scanner.ts` does it:
 * both data files, every source group, hyper-parameters by grouped cross-validation (see
 * scanner-fit.ts). The reproducibility test calls this and compares the bytes with the file.
 */
import type { InjectionModelJSON } from '../src/scanner/model'
import { buildCorpus, type CorpusRow } from './scanner-corpus'
import {
  groupOfRows,
  type LabelledPrompt,
  loadTrainingData,
  type SourceGroup,
  sourceGroups,
} from './scanner-data'
import { DEFAULT_FIT, type FitResult, fitScanner } from './scanner-fit'

/** The data as every evaluation needs it. */
export interface PreparedData {
  readonly rows: LabelledPrompt[]
  readonly groups: SourceGroup[]
  readonly groupOf: Int32Array
  readonly corpus: CorpusRow[]
}

/** Loads both files, forms the source groups and builds the corpus. */
export function prepareData(folder: string, settings = DEFAULT_FIT): PreparedData {
  const rows = loadTrainingData(folder)
  const groups = sourceGroups(rows.map((row) => row.source))
  return { rows, groups, groupOf: groupOfRows(rows, groups), corpus: buildCorpus(rows, settings.corpus) }
}

/** Fits the model that ships, on every row. */
export function fitShippedModel(
  data: PreparedData,
  settings = DEFAULT_FIT,
  log: (line: string) => void = () => {},
): FitResult {
  return fitScanner(
    { corpus: data.corpus, groups: data.groupOf, indices: data.rows.map((_, index) => index) },
    settings,
    data.rows.map((row) => row.source),
    log,
  )
}

/** The file content of src/scanner/model/weights.json for a fitted model. */
export const weightsFile = (json: InjectionModelJSON): string => `${JSON.stringify(json)}\n`
