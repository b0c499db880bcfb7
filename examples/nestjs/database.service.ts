import { Injectable, Logger, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common'

/**
 * Stands in for a connection pool. Its Nest hooks run after the drain, so no
 * request still uses it when it closes.
 */
@Injectable()
export class DatabaseService implements OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseService.name)

  async onModuleDestroy (): Promise<void> {
    this.logger.log('closing the pool (every request has finished)')
  }

  onApplicationShutdown (signal?: string): void {
    this.logger.log(`application shut down (${signal ?? 'app.close()'})`)
  }
}
