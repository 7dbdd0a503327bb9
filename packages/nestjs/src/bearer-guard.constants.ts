/**
 * Injection token of the core `AccessTokenValidator` provided by {@link BearerGuardModule}: built
 * once from the module options, shared by every {@link BearerGuard}.
 *
 * @example Verifying tokens outside HTTP, e.g. in a WebSocket gateway:
 * ```ts
 * @Injectable()
 * export class SocketAuth {
 *   constructor(@Inject(BEARER_GUARD_VALIDATOR) private readonly validator: AccessTokenValidator) {}
 *   verify(token: string): Promise<VerifiedAccessToken> {
 *     return this.validator.verify(token)
 *   }
 * }
 * ```
 */
export const BEARER_GUARD_VALIDATOR: unique symbol = Symbol('BEARER_GUARD_VALIDATOR')
