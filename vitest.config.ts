import { defineConfig } from 'vitest/config'

// One root configuration with a project per package. Packages other than core are tested
// against the *built* packages they depend on (turbo's `^build`), so a broken export map fails here.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: '@bearer-guard/core',
          root: 'packages/core',
          include: ['test/**/*.test.ts'],
        },
      },
      {
        test: {
          name: '@bearer-guard/testing',
          root: 'packages/testing',
          include: ['test/**/*.test.ts'],
        },
      },
      {
        test: {
          name: '@bearer-guard/express',
          root: 'packages/express',
          include: ['test/**/*.test.ts'],
        },
      },
      {
        test: {
          name: '@bearer-guard/fastify',
          root: 'packages/fastify',
          include: ['test/**/*.test.ts'],
        },
      },
      {
        test: {
          name: '@bearer-guard/presets',
          root: 'packages/presets',
          include: ['test/**/*.test.ts'],
        },
      },
      {
        test: {
          name: '@bearer-guard/redis',
          root: 'packages/redis',
          include: ['test/**/*.test.ts'],
          // Each file starts its own redis-server; the failure tests wait for reconnections.
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: '@bearer-guard/grpc',
          root: 'packages/grpc',
          include: ['test/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: '@bearer-guard/ws',
          root: 'packages/ws',
          include: ['test/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: '@bearer-guard/opentelemetry',
          root: 'packages/opentelemetry',
          include: ['test/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: '@bearer-guard/cli',
          root: 'packages/cli',
          include: ['test/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      // Its own config: decorators, and a longer timeout for the Jest recipe test.
      'packages/nestjs/vitest.config.ts',
      {
        test: {
          name: 'contract',
          root: 'test',
          include: ['**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
    coverage: {
      provider: 'v8',
      include: ['packages/core/src/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 90 },
    },
  },
})
