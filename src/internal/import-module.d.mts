/** Imports `specifier` natively, resolved from the package's location. */
export declare function importModule(specifier: string): Promise<unknown>
