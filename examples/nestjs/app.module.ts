import { Module, type DynamicModule } from '@nestjs/common'
import { GracefulModule, type GracefulModuleOptions } from '@graceful/nestjs'
import { AppController, BareHealthController } from './app.controller.js'
import { DatabaseService } from './database.service.js'
import { ReportService } from './report.service.js'

@Module({
  controllers: [AppController],
  providers: [ReportService, DatabaseService],
})
export class AppModule {
  /** With graceful options, the app as it should run; with `null`, bare Nest (for the demo's comparison). */
  static register (graceful: GracefulModuleOptions | null): DynamicModule {
    return graceful
      ? { module: AppModule, imports: [GracefulModule.forRoot(graceful)] }
      : { module: AppModule, controllers: [BareHealthController] }
  }
}
