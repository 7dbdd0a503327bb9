/* global module, __dirname */
// The unchanged Jest configuration of a `nest new` project, without the bearer-guard recipe: the
// test in ../jest.test.ts shows that it cannot load ESM-only packages on Node < 24.9.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.e2e-spec.ts$',
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)s$': 'ts-jest',
  },
}
