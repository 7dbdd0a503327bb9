/**
 * The example APIs held to CONTRACT.md. Each is started as a user would (`npm start --prefix
 * <dir>`); adding an adapter to the contract suite is one line here.
 */
export interface ExampleApp {
  /** The name shown in test titles. */
  readonly name: string
  /** The example's directory, relative to the repository root. */
  readonly dir: string
  /** Extra environment, e.g. to pick a platform. */
  readonly env?: Readonly<Record<string, string>>
}

export const examples: readonly ExampleApp[] = [
  { name: 'express', dir: 'examples/express' },
  { name: 'fastify', dir: 'examples/fastify' },
  { name: 'nestjs', dir: 'examples/nestjs' },
  { name: 'nestjs (fastify)', dir: 'examples/nestjs', env: { NEST_PLATFORM: 'fastify' } },
]
