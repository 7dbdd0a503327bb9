/* global module, __dirname */
// The Jest configuration of a `nest new` project (CommonJS, ts-jest), plus the bearer-guard
// recipe: on Node < 24.9 Jest cannot require() ES modules (Node itself can since 20.19), so the
// ESM-only packages (@bearer-guard/*, jose) are compiled to CommonJS by ts-jest as well.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.e2e-spec.ts$',
  testEnvironment: 'node',
  transform: {
    // The starter's rule (ts-jest for .ts and .js), with options added (recipe 1/2):
    // - allowJs: compile JavaScript too, not only TypeScript;
    // - module 'commonjs': `nodenext` keeps the files of `"type": "module"` packages ESM;
    // - resolvePackageJsonExports false: the starter's tsconfig sets it, and TypeScript refuses
    //   it next to module 'commonjs'.
    '^.+\\.(t|j)s$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', resolvePackageJsonExports: false } },
    ],
  },
  // Recipe 2/2: transform those packages instead of skipping all of node_modules.
  transformIgnorePatterns: ['/node_modules/(?!(@bearer-guard|jose)/)'],
}
