/**
 * The `bearer-guard` command line: `bearer-guard explain [options] [token]`. Arguments become the
 * validator options an API would pass to core, the token is read from the argument or standard
 * input, and the explanation is printed as text or JSON. Exit codes say the outcome.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createAccessTokenValidator, definePolicy } from '@bearer-guard/core'
import { assertKnownOptions } from '@bearer-guard/core/adapter'
import { explain } from './explain.js'
import { MAX_INPUT, UsageError, instantOf, printableArg, validatorOptions } from './settings.js'
import { explanationJson, formatExplanation } from './text.js'

/** Exit codes of `bearer-guard explain`. */
export const EXIT = Object.freeze({
  /** The API accepts the token (and the route's needs, if given). */
  accepted: 0,
  /** The API refuses it: 400, 401 or 403. */
  refused: 1,
  /** Wrong usage or configuration: nothing was explained. */
  usage: 2,
  /** The issuer's keys (discovery, JWKS) cannot be obtained: the API answers 503. */
  unavailable: 3,
})

/** Where the command reads and writes (the process's streams, or a test's). */
export interface Io {
  readonly stdin: AsyncIterable<Uint8Array | string> & { readonly isTTY?: boolean }
  readonly stdout: { write(text: string): unknown }
  readonly stderr: { write(text: string): unknown }
}

const USAGE = `Usage: bearer-guard explain [options] [token]

Explains why an API with these settings accepts or refuses an access token: each check in the
order the validator runs it, in plain words, and the exact answer the API sends (status,
WWW-Authenticate). The verdict is the validator's own (@bearer-guard/core).

The token: the argument, or standard input (better: an argument stays in the shell history).
A leading "Bearer " is removed. The token is never printed, only its length and a SHA-256
prefix; its decoded header and claims are (--no-claims leaves them out).

The API's settings:
  --issuer <id>          an accepted issuer (repeatable)
  --audience <id>        this API's identifier (repeatable)
  --preset <name>        a provider preset of @bearer-guard/presets: auth0, cognito, dex, entra,
                         github-actions, google, keycloak, kubernetes, okta. With a preset,
                         --issuer and --audience are its parameters of those names
  --param <name=value>   a preset parameter (repeatable; repeat a name for a list; true/false,
                         and [..] or {..} as JSON)
  --config <file.json>   validator options as JSON (those of createAccessTokenValidator), and
                         optionally "preset": { "name": "auth0", ...parameters }; flags win
  --jwks <file>          offline: verify with the keys in this file (a JWKS, a JWK, or PEM
                         public keys or certificates) instead of discovery; nothing is fetched

The request:
  --scope <scope>        the route needs this scope (repeatable: all of them)
  --any-scope <scope>    the route needs one of these scopes (repeatable)
  --now <time>           evaluate at this instant: ISO 8601, or seconds since the epoch

Output:
  --json                 the explanation as JSON
  --no-claims            leave out the decoded header and claims
  -h, --help             this help
  --version              the version

Exit codes: 0 accepted; 1 refused (400, 401, 403); 2 usage or configuration error;
3 the issuer's keys or discovery unavailable (503).
`

const OPTIONS = {
  issuer: { type: 'string', multiple: true },
  audience: { type: 'string', multiple: true },
  preset: { type: 'string' },
  param: { type: 'string', multiple: true },
  config: { type: 'string' },
  jwks: { type: 'string' },
  scope: { type: 'string', multiple: true },
  'any-scope': { type: 'string', multiple: true },
  now: { type: 'string' },
  json: { type: 'boolean' },
  claims: { type: 'boolean', default: true },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const

/**
 * Runs `bearer-guard` with `argv` (the arguments after the program name) and returns the exit
 * code: {@link EXIT}.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    return await run(argv, io)
  } catch (error) {
    if (error instanceof UsageError || error instanceof TypeError || error instanceof SyntaxError) {
      const message = error.message.startsWith('bearer-guard')
        ? error.message
        : `bearer-guard: ${error.message}`
      io.stderr.write(`${message}\nRun 'bearer-guard explain --help' for the options.\n`)
      return EXIT.usage
    }
    io.stderr.write(
      `bearer-guard: explain failed: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    return EXIT.usage
  }
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(USAGE)
    return command === undefined ? EXIT.usage : EXIT.accepted
  }
  if (command === '--version') {
    io.stdout.write(`${version()}\n`)
    return EXIT.accepted
  }
  if (command !== 'explain') {
    throw new UsageError(
      `bearer-guard: unknown command '${printableArg(command)}'; the command is 'explain'`,
    )
  }
  const { values, positionals } = parse(rest)
  if (values.help === true) {
    io.stdout.write(USAGE)
    return EXIT.accepted
  }
  if (values.version === true) {
    io.stdout.write(`${version()}\n`)
    return EXIT.accepted
  }
  if (positionals.length > 1) {
    throw new UsageError('bearer-guard: give one token (or none, to read it from standard input)')
  }
  const validator = validatorOptions(values)
  const now = values.now === undefined ? undefined : instantOf(values.now)
  const route = {
    ...(values.scope === undefined ? {} : { allOf: values.scope }),
    ...(values['any-scope'] === undefined ? {} : { anyOf: values['any-scope'] }),
  }
  // Settings are checked before the token is awaited: a mistake is reported at once.
  createAccessTokenValidator(validator)
  if (route.allOf !== undefined || route.anyOf !== undefined) definePolicy(route)
  const token = await readToken(positionals[0], io)
  const explanation = await explain(token, {
    validator,
    route,
    ...(now === undefined ? {} : { now }),
  })
  io.stdout.write(
    values.json === true
      ? explanationJson(
          values.claims ? explanation : { ...explanation, header: undefined, claims: undefined },
        )
      : formatExplanation(explanation, { claims: values.claims }),
  )
  const { outcome } = explanation.verdict
  return outcome === 'accepted'
    ? EXIT.accepted
    : outcome === 'refused'
      ? EXIT.refused
      : EXIT.unavailable
}

function parse(args: readonly string[]) {
  try {
    return parseArgs({
      args: [...args],
      options: OPTIONS,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const unknown = /Unknown option '(?:--?)([^']+)'/.exec(message)?.[1]
    if (unknown !== undefined) {
      // The closest known flag, the way core names the closest known option.
      assertKnownOptions({ [unknown]: true }, new Set(Object.keys(OPTIONS)), 'bearer-guard explain')
    }
    throw new UsageError(`bearer-guard: ${message}`)
  }
}

function version(): string {
  const manifest = JSON.parse(
    readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
  ) as { version: string }
  return manifest.version
}

/** The token: the argument, or standard input; surrounding white space and a scheme removed. */
async function readToken(argument: string | undefined, io: Io): Promise<string> {
  let text: string
  if (argument !== undefined && argument !== '-') text = argument
  else if (io.stdin.isTTY === true) {
    throw new UsageError(
      'bearer-guard: no token: give it on standard input (e.g. read -rs TOKEN && printf \'%s\' "$TOKEN" | bearer-guard explain ...)',
    )
  } else {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of io.stdin) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk)
      size += bytes.length
      if (size > MAX_INPUT)
        throw new UsageError('bearer-guard: standard input is larger than 1 MiB: not a token')
      chunks.push(bytes)
    }
    text = Buffer.concat(chunks).toString('utf8')
  }
  const token = text.trim().replace(/^(?:bearer|dpop)[ \t]+/i, '')
  if (token === '') throw new UsageError('bearer-guard: no token was given')
  return token
}
