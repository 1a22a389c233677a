/**
 * The classifier that ships inside the package, trained offline by `scripts/train-scanner.ts`
 * (see docs/scanner.md for data, protocol and measured figures). Loaded lazily and once, so
 * importing the package costs nothing until a scanner is built.
 */
import { InjectionModel, type InjectionModelJSON } from './model'
import shippedWeights from './model/weights.json'

let shipped: InjectionModel | undefined

/** The shipped injection classifier (decoded on first use, then shared). */
export function loadShippedModel(): InjectionModel {
  shipped ??= InjectionModel.fromJSON(shippedWeights as unknown as InjectionModelJSON)
  return shipped
}
