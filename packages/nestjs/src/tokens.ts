import { Inject } from '@nestjs/common'

/**
 * The injection token of the core `Graceful` handle. Inject it with
 * {@link InjectGraceful} (or `@Inject(GRACEFUL)`): an explicit token, so
 * nothing depends on `emitDecoratorMetadata`.
 *
 * @example
 * constructor (@Inject(GRACEFUL) private readonly graceful: Graceful) {}
 */
export const GRACEFUL = '@graceful/nestjs:Graceful'

/** The token of the options given to `forRoot()` / `forRootAsync()`. */
export const GRACEFUL_OPTIONS = '@graceful/nestjs:GracefulModuleOptions'

/** Internal: the bridge between the core and the Nest application. */
export const GRACEFUL_BRIDGE = '@graceful/nestjs:Bridge'

/**
 * `@Inject(GRACEFUL)`, spelled the Nest way (like `@InjectRepository()`).
 *
 * @example
 * @Injectable()
 * export class ReportService {
 *   constructor (@InjectGraceful() private readonly graceful: Graceful) {}
 *   build () { return this.graceful.track(({ signal }) => render(signal), { name: 'report' }) }
 * }
 */
export function InjectGraceful (): PropertyDecorator & ParameterDecorator {
  return Inject(GRACEFUL)
}
