/**
 * Injection token of the core `AccessTokenValidator` provided by {@link BearerGuardModule}: built
 * once from the module options, shared by every {@link BearerGuard}.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class ReadinessService {
 *   constructor(@Inject(BEARER_GUARD_VALIDATOR) private readonly validator: AccessTokenValidator) {}
 *   ready(): Promise<void> {
 *     return this.validator.ready()
 *   }
 * }
 * ```
 */
export const BEARER_GUARD_VALIDATOR: unique symbol = Symbol('BEARER_GUARD_VALIDATOR')
