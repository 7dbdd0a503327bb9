import { defineConfig } from 'vitest/config'

// Decorators are compiled by Vite's transformer, which follows `experimentalDecorators` in this
// package's tsconfig.json. Tests run real Nest applications and a real issuer on loopback.
export default defineConfig({
  test: {
    name: '@bearer-guard/nestjs',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
