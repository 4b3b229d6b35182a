/** node-pg's internal helpers (exported by the package as `pg/lib/*`), used to write bindings as literals. */
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue(value: unknown): string | Buffer | null }
  export default utils
}
