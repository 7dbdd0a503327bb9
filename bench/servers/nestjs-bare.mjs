import { startNest } from './nest-shared.mjs'

await startNest()
