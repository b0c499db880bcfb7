import { Controller, Get, Header, Inject, Query } from '@nestjs/common'
import { ReportService } from './report.service.js'

const maxSlowMs = 60_000

@Controller()
export class AppController {
  // Explicit tokens everywhere: nothing needs emitDecoratorMetadata (esbuild does not emit it).
  constructor (@Inject(ReportService) private readonly reports: ReportService) {}

  @Get()
  @Header('content-type', 'text/plain')
  hello (): string {
    return 'hello\n'
  }

  @Get('slow')
  @Header('content-type', 'text/plain')
  slow (@Query('ms') ms?: string): Promise<string> {
    return this.reports.render(Math.min(Math.max(Number(ms ?? 100) || 0, 0), maxSlowMs))
  }
}

/** Without graceful (`GRACEFUL=0`) a service still has health routes; they just never change. */
@Controller()
export class BareHealthController {
  @Get(['livez', 'readyz'])
  health (): { status: string } {
    return { status: 'ok' }
  }
}
