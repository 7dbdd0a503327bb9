/** The package's version, the instrumentation scope's version (a test keeps it equal to package.json). */
export const VERSION = '0.1.0'

/** The instrumentation scope name every instrument is created under. */
export const SCOPE_NAME = '@bearer-guard/opentelemetry'
