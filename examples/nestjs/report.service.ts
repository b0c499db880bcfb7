import { Injectable, Optional } from '@nestjs/common'
import { InjectGraceful, type Graceful } from '@graceful/nestjs'

/** Work that must not be cut by a deploy: the drain waits for tracked tasks. */
@Injectable()
export class ReportService {
  // Optional only because this example also runs bare (GRACEFUL=0).
  constructor (@Optional() @InjectGraceful() private readonly graceful?: Graceful) {}

  /** Sleeps `ms` as tracked work; the signal aborts at the drain deadline. */
  render (ms: number): Promise<string> {
    const work = ({ signal }: { signal?: AbortSignal }) => new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => resolve(`slow ${ms}\n`), ms)
      signal?.addEventListener('abort', () => {
        clearTimeout(timer)
        reject(signal.reason as Error)
      }, { once: true })
    })
    return this.graceful ? this.graceful.track(work, { name: 'report' }) : work({})
  }
}
